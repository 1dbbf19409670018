/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sentinel-probe-build: compiles and loads the probe for sentinel-agent and
 * hands it over (probe_spawn.h), then exits, taking libLLVM with it. Not
 * meant to be run by hand: the agent starts it with --sock.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "handoff.h"
#include "log.h"
#include "probe_build.h"
#include "probe_spawn.h"

/* Whether the agent's end of @sock is gone (the agent died before
 * PR_SET_PDEATHSIG was set). */
static int agent_gone(int sock)
{
	struct pollfd p = {.fd = sock, .events = 0};

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

int main(int argc, char **argv)
{
	struct probe_build_opts o;
	struct handoff h;
	void *mod = NULL;
	char err[256];
	int rc = 1;

	handoff_init(&h);
	if (probe_spawn_parse(argc, argv, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "sentinel-probe-build: %s\n", err);
		return 2;
	}
	log_set_level((enum log_level)o.log_level);
	/* A compile outliving a killed agent would only burn CPU. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (agent_gone(o.sock))
		return 1;
	/* libbcc prints some complaints (no kernel headers, modprobe) on
	 * stdout, which in the agent's stdout mode is the event stream. */
	dup2(STDERR_FILENO, STDOUT_FILENO);
	if (probe_build(&o, &h, &mod) == 0) {
		int e = handoff_send(o.sock, &h);

		if (e)
			log_error("handing the probe to the agent failed", "errno=%d", -e);
		rc = e ? 1 : 0;
	}
	probe_build_free(&h, mod);
	close(o.sock);
	return rc;
}
