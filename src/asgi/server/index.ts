// serve(), owned by the ASGI server work.
export {};
