"""Raw HTTP access to the fake Central for the tests that check the fake itself.

The fake must answer exactly as Central does, so these tests read its status codes
and JSON bodies directly (``requests``), not through our client's interpretation.
"""

from __future__ import annotations

from typing import Any

import requests
from pyxform.xls2xform import convert

EMAIL, PASSWORD = "admin@example.org", "a-long-password-1"


def xform(form_id: str = "household", version: str = "1", *, extra: str = "") -> bytes:
    """An XForm as pyxform writes it; ``extra`` adds survey rows (markdown)."""
    md = f"""
| survey |
| | type | name | label | media::image |
| | text | head | Head of household | logo.png |
{extra}
| settings |
| | form_id | version | form_title |
| | {form_id} | {version} | Household survey |
"""
    return convert(xlsform=md, file_type=".md").xform.encode()


def entity_xform(
    form_id: str = "register",
    dataset: str = "households",
    properties: tuple[str, ...] = ("hh_name", "Size"),
    version: str = "1",
) -> bytes:
    """A form that creates entities in ``dataset``, saving one field to each property."""
    rows = "\n".join(f"| | text | q_{i} | Q{i} | {p} |" for i, p in enumerate(properties))
    md = f"""
| survey |
| | type | name | label | save_to |
{rows}
| entities |
| | list_name | label |
| | {dataset} | ${{q_0}} |
| settings |
| | form_id | version |
| | {form_id} | {version} |
"""
    return convert(xlsform=md, file_type=".md").xform.encode()


class Api:
    """One signed-in account on the fake, speaking raw HTTP."""

    def __init__(self, fake, email: str = EMAIL, password: str = PASSWORD) -> None:
        self.base = fake.base_url
        self.http = requests.Session()
        answer = self.http.post(
            f"{self.base}/v1/sessions", json={"email": email, "password": password}
        )
        assert answer.status_code == 200, answer.text
        self.session = answer.json()
        self.http.headers["Authorization"] = f"Bearer {self.session['token']}"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, self.base + path, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.call(method, path, **kwargs)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def project(self, name: str = "P") -> int:
        return self.ok("POST", "/v1/projects", json={"name": name})["id"]

    def form(self, pid: int, xml: bytes, **params: str) -> requests.Response:
        headers = {"Content-Type": "application/xml"}
        return self.call(
            "POST", f"/v1/projects/{pid}/forms", data=xml, headers=headers, params=params
        )

    def draft(self, pid: int, form_id: str, xml: bytes) -> requests.Response:
        headers = {"Content-Type": "application/xml"}
        return self.call(
            "POST", f"/v1/projects/{pid}/forms/{form_id}/draft", data=xml, headers=headers
        )

    def publish(self, pid: int, form_id: str, **params: str) -> requests.Response:
        return self.call("POST", f"/v1/projects/{pid}/forms/{form_id}/draft/publish", params=params)


def problem(answer: requests.Response) -> dict[str, Any]:
    """The JSON problem of an error answer, checked to be Central-shaped."""
    body = answer.json()
    assert answer.status_code == int(body["code"]), (answer.status_code, body)
    return body
