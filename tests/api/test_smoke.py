from tests.api.helpers import error_of


def test_me_with_token(client_for):
    response = client_for("editor").get("/api/v1/me/")
    assert response.status_code == 200, response.content
    assert response.json()["role"] == "editor"


def test_anonymous_is_401_json(org_a):
    from tests.api.helpers import api_client

    response = api_client(org_a).get("/api/v1/servers/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert error_of(response)["code"] == "not_authenticated"
