/* SPDX-License-Identifier: Apache-2.0 */
#include "probe_progs.h"

#include "event.h"

const struct probe_prog probe_progs[] = {
	{.fn = "raw_tracepoint__sys_enter", .name = "sys_enter", .tail = -1},
	{.fn = "raw_tracepoint__sys_exit", .name = "sys_exit", .tail = -1},
	{.fn = "raw_tracepoint__cgroup_mkdir", .name = "cgroup_mkdir", .tail = -1},
	{.fn = "raw_tracepoint__cgroup_rename", .name = "cgroup_rename", .tail = -1},
	/* 5.17+ (writeback_dirty_page before) */
	{.fn = "raw_tracepoint__writeback_dirty_folio",
	 .name = "writeback_dirty_folio",
	 .tail = -1,
	 .unseen = "stores through shared mappings"},
	{.fn = "move_src", .tail = SE_TAIL_MOVE_SRC},
	{.fn = "move_dst", .tail = SE_TAIL_MOVE_DST},
	{.fn = "aio_iocb", .tail = SE_TAIL_AIO},
	{.fn = "change_enter", .tail = SE_TAIL_CHANGE},
	{.fn = "trunc_open", .tail = SE_TAIL_TRUNC_OPEN},
	{.fn = "name_old", .tail = SE_TAIL_NAME_OLD},
	{.fn = "name_new", .tail = SE_TAIL_NAME_NEW},
	{.fn = "name_send", .tail = SE_TAIL_NAME_SEND},
	{.fn = "raw_tracepoint__io_uring_submit_req",
	 .name = "io_uring_submit_req",
	 .uring = true,
	 .tail = -1},
	{.fn = "raw_tracepoint__io_uring_file_get",
	 .name = "io_uring_file_get",
	 .uring = true,
	 .tail = -1},
	{.fn = "raw_tracepoint__io_uring_complete",
	 .name = "io_uring_complete",
	 .uring = true,
	 .tail = -1},
	{.fn = "uring_in", .uring = true, .tail = SE_TAIL_URING_IN},
};

const unsigned probe_n_progs = sizeof(probe_progs) / sizeof(probe_progs[0]);
_Static_assert(sizeof(probe_progs) / sizeof(probe_progs[0]) <= PROBE_MAX_PROGS, "PROBE_MAX_PROGS");

static const char *const map_names[PROBE_MAP_N] = {
	[PROBE_MAP_CONFIG] = "config",	  [PROBE_MAP_FILES] = "files",
	[PROBE_MAP_EPOCH] = "epoch",	  [PROBE_MAP_VERDICTS] = "verdicts",
	[PROBE_MAP_COMMS] = "comm_masks", [PROBE_MAP_COUNTERS] = "counters",
	[PROBE_MAP_RL] = "rl_suppressed", [PROBE_MAP_EVENTS] = "events",
	[PROBE_MAP_MOVERS] = "movers",
};

const char *probe_map_name(enum probe_map m)
{
	return (unsigned)m < PROBE_MAP_N ? map_names[m] : "?";
}
