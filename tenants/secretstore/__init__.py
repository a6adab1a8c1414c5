"""Per-organization secret store (DESIGN.md §6; operator guide in docs/secrets.md).

Every credential the product holds for an organization goes through here.
Callers name a secret by purpose and object (``central-server/12/password``)
and never by tenant: the store works on the current tenant only and adds the
tenant itself (its schema for the local backend, its own Infisical project
otherwise). Values come back wrapped in ``SecretValue``, whose ``repr`` and
``str`` hide them.

Reading::

    from tenants.secretstore.store import secret_store

    password = secret_store().get("central-server/12/password").reveal()

Writing (services, with an actor, audited)::

    from tenants.secretstore.services.secrets import secret_put

    secret_put("central-server/12/password", "s3cret", actor=request.user)
"""
