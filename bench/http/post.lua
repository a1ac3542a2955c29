-- wrk script for the echo profile: POST the same JSON body every time.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"name":"mtaio","tags":["asgi","mqtt","mail"],"count":42,"nested":{"ok":true,"ratio":0.95}}'
