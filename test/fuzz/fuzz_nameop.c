/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: agent/nameop.c - one side of a rename's or link's record
 * (struct se_nameop_side) resolved to a name. The record comes from the
 * kernel, but a probe bug or a record cut short must give a name flagged
 * for what it is, never a read past the side or an unterminated name.
 *
 * Input: byte 0 the side's base (enum se_nameop_base, any value, in its low
 * 7 bits; the high bit: the last component followed, as truncate(2) does), bytes
 * 1-2 its len, 3-4 how many bytes of the walk's names follow, then the
 * walk's header (SE_KP_HDR bytes), those names, and the string (the rest,
 * cut to SE_NAMEOP_STR). Looked up under "/" on this machine (O_PATH opens
 * only). The mount namespace is always the host's: another would scan
 * /proc on every input.
 *
 * Invariants (a violation traps):
 *  - the name is NUL-terminated within NAMEOP_PATH_MAX;
 *  - UNREADABLE gives "", and so does every side whose base is SE_NB_NONE
 *    or beyond SE_NB_FILE, whose len is 0, beyond SE_NAMEOP_STR or not the
 *    string's length + 1;
 *  - LOOKUP and LEXICAL give an absolute name without "//"; TRUNCATED one
 *    that never starts with '/'; FILE exactly the walk's decoded name.
 */
#include "fuzz.h"
#include "kpath.h"
#include "nameop.h"

static struct nameop lookup;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	nameop_init(&lookup);
	lookup.hostroot = "/";
	snprintf(lookup.host_minfo, sizeof(lookup.host_minfo), "/proc/self/mountinfo");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct se_nameop_side sd;
	static struct nameop_name out;
	static struct kpath kp;
	size_t names, rest, len;
	bool readable, follow;

	if (size < 5 + SE_KP_HDR)
		return 0;
	memset(&sd, 0, sizeof(sd));
	sd.base = data[0] & 0x7f; /* the high bit: followed (truncate, ln -L) */
	follow = data[0] & 0x80;
	sd.len = (uint16_t)(data[1] | data[2] << 8);
	names = (size_t)(data[3] | data[4] << 8);
	data += 5;
	size -= 5;
	memcpy(&sd.kp, data, SE_KP_HDR);
	sd.kp.mntns = lookup.host_mntns;
	data += SE_KP_HDR;
	size -= SE_KP_HDR;
	if (names > size)
		names = size;
	if (names > sizeof(sd.kp.names))
		names = sizeof(sd.kp.names);
	memcpy(sd.kp.names, data, names);
	rest = size - names;
	if (rest > sizeof(sd.str))
		rest = sizeof(sd.str);
	memcpy(sd.str, data + names, rest);

	memset(&out, 'Z', sizeof(out));
	nameop_resolve(&lookup, &sd, follow, 1, 1, &out);
	len = strnlen(out.path, sizeof(out.path));
	FUZZ_CHECK(len < sizeof(out.path));
	readable = sd.base != SE_NB_NONE && sd.base <= SE_NB_FILE && sd.len &&
		   sd.len <= SE_NAMEOP_STR && sd.str[sd.len - 1] == '\0' &&
		   strlen(sd.str) == (size_t)sd.len - 1;
	if (!readable)
		FUZZ_CHECK(out.how == NAMEOP_UNREADABLE);
	switch (out.how) {
	case NAMEOP_UNREADABLE: FUZZ_CHECK(len == 0); break;
	case NAMEOP_LOOKUP:
	case NAMEOP_LEXICAL:
		FUZZ_CHECK(out.path[0] == '/');
		FUZZ_CHECK(strstr(out.path, "//") == NULL);
		break;
	case NAMEOP_TRUNCATED: FUZZ_CHECK(out.path[0] != '/'); break;
	case NAMEOP_FILE:
		FUZZ_CHECK(kpath_decode(&sd.kp, sizeof(sd.kp), &kp) == 0);
		FUZZ_CHECK(strcmp(out.path, kp.host) == 0);
		break;
	default: FUZZ_CHECK(!"a resolution outside enum nameop_how");
	}
	return 0;
}
