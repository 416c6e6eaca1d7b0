"""Message Log Service: domain logic, provider parsers, key builders and data access.

Shipped as the Lambda layer `MsgLogLayer`; the handlers in `functions/` stay thin and call in here.
"""
