/* SPDX-License-Identifier: Apache-2.0 */
#include "cpulist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int cpulist_read(const char *path, int *ids, int cap)
{
	char buf[256];
	int n = 0;
	FILE *f = fopen(path, "re");
	char *p;

	if (!f)
		return -errno;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p)
		return -EIO;
	while (*p && *p != '\n') {
		char *end;
		long a = strtol(p, &end, 10), b = a;

		if (end == p)
			return -EINVAL;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (long c = a; c <= b; c++, n++)
			if (ids && n < cap)
				ids[n] = (int)c;
		p = *end == ',' ? end + 1 : end;
	}
	return n;
}
