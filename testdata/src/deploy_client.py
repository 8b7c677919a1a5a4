"""Tiny deploy helper used by the release pipeline."""
import requests

API = "https://k8s-prod.internal.example:6443"
# TODO: move to a secret store
SA_TOKEN = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50Iiwia3ViZXJuZXRlcy5pby9zZXJ2aWNlYWNjb3VudC9uYW1lc3BhY2UiOiJjaSIsImt1YmVybmV0ZXMuaW8vc2VydmljZWFjY291bnQvc2VjcmV0Lm5hbWUiOiJkZXBsb3llci10b2tlbi1tNG44eiIsImt1YmVybmV0ZXMuaW8vc2VydmljZWFjY291bnQvc2VydmljZS1hY2NvdW50Lm5hbWUiOiJkZXBsb3llciIsImt1YmVybmV0ZXMuaW8vc2VydmljZWFjY291bnQvc2VydmljZS1hY2NvdW50LnVpZCI6IjZjNGExYTNlLTJkNGItNGYzNy05ZDJhLTBjMWU1YjdmOWExMSIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDpjaTpkZXBsb3llciJ9.c01CdD-zJ2VmzZWZ7hyJ_GWWLAnbFz2wL-Mw_CxVfhAM9MoqpewviOJpC3p8YoRsyayBmqWMwA9mIPUY7PXCFD_SCWqKnGUexl3VvFv_xGLlDnNYpnHpXF-uSQrE8G3NEx_zuW1T9vhnvpj616qbR2fbf7RqlLynm0QyHRdO2EdI7wn0MifQwCov64nIYTHWiTNWHZFwkqb2yok0MpIQjn97FFH_z96Hy4zKMMsuQNtV6r9RBubIsMyaNSP8KIS8241yKDySURFQzJ9rDsVmDsOxDDnYbJ7GKfCvVYNVFpm1f54YrFflx169tj9WGxL8kvOOKWSIA9HMRdoJ7Rt-pQ"
)
SIGNING_KEY = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgW3NYs/aBBQlTx1Kc\nto6SjzZ3uEYbit50k2hCRE4EULOhRANCAAQBVZdcWEMToHmIOZOa3Pk9GClE7Z/N\ngaW5HX6WiSeOrU6Msep/oTHlRaZ6YCca2KRgsGWe4p7rr6Hoo6/RTM05\n-----END PRIVATE KEY-----"


def deploy(ns: str, manifest: dict) -> None:
    requests.post(f"{API}/apis/apps/v1/namespaces/{ns}/deployments",
                  headers={"Authorization": f"Bearer {SA_TOKEN}"}, json=manifest, timeout=10)
