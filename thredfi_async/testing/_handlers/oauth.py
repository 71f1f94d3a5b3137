"""``thredfi.oauth``: the two token exchanges (partner credentials for a partner token, a partner
token for a business token).
"""

from __future__ import annotations

from .._server.context import Context, Reply, handles
from .._server.errors import ApiError, validation_error


@handles("get_partner_token")
def get_partner_token(ctx: Context) -> Reply:
    assert ctx.basic_credentials is not None
    partner_uuid, _ = ctx.basic_credentials
    client_id = ctx.body.get("client_id")
    if client_id not in (None, "") and str(client_id) != partner_uuid:
        raise ApiError(401, "invalid_client", "client_id does not match the Basic credentials.")
    grant_type = ctx.body.get("grant_type")
    if grant_type not in (None, "", "client_credentials"):
        raise validation_error(
            {"grant_type": [f'Unsupported grant type "{grant_type}".']},
            "Unsupported grant type",
        )
    issued = ctx.world.tokens.issue(partner_uuid)
    return Reply(
        200,
        {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
        },
    )


@handles("get_business_token")
def get_business_token(ctx: Context) -> Reply:
    assert ctx.claims is not None
    business_id = ctx.param("business_id")  # in scope (checked); its books are not needed
    issued = ctx.world.tokens.issue(ctx.claims.partner_uuid, business_id)
    return Reply(
        200,
        {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": "business_access",
            "business_id": business_id,
        },
    )
