/* placeholder: being written */
#include <stdio.h>

#include "cli/cli.h"

static int later(void)
{
	fprintf(stderr, "kortisto: not yet available\n");
	return 1;
}
int cmd_audit(struct globals *g, int argc, char **argv)
{
	(void)g, (void)argc, (void)argv;
	return later();
}
int cmd_disclose(struct globals *g, int argc, char **argv)
{
	(void)g, (void)argc, (void)argv;
	return later();
}
