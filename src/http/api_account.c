/* placeholder: being written */
#include "http/http.h"

#define LATER(fn)                                                                                  \
	void fn(struct req *r)                                                                     \
	{                                                                                          \
		reply_status(r, 404, "not yet available");                                         \
	}
LATER(api_session_create)
LATER(api_session_delete)
LATER(api_me)
LATER(api_me_password)
LATER(api_me_totp_begin)
LATER(api_me_totp_confirm)
LATER(api_me_commitment_get)
LATER(api_me_commitment_accept)
LATER(api_grants_list)
LATER(api_grant_put)
LATER(api_grant_delete)
