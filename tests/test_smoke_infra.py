def test_organizations_provisioned(org_a, org_b):
    assert org_a.status == "active"
    assert org_b.schema_name == "org_globex"
