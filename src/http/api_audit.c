/* placeholder: being written */
#include "http/http.h"

#define LATER(fn)                                                                                  \
	void fn(struct req *r)                                                                     \
	{                                                                                          \
		reply_status(r, 404, "not yet available");                                         \
	}
LATER(api_audit_list)
LATER(api_disclosure_create)
LATER(api_disclosure_list)
