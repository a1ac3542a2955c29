// ASGIApplication, Request, Response, Router, ASGIMiddleware, TestClient.
export {};
