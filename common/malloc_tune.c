/* SPDX-License-Identifier: Apache-2.0 */
#include "malloc_tune.h"

#include <malloc.h>

int malloc_tune(void)
{
	/* Setting either also turns off glibc's adaptive thresholds. */
	int ok = mallopt(M_MMAP_THRESHOLD, (int)MALLOC_TUNE_MMAP) &&
		 mallopt(M_TRIM_THRESHOLD, (int)MALLOC_TUNE_TRIM);

	return ok ? 0 : -1;
}
