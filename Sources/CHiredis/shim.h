#ifndef GATEWAY_CHIREDIS_SHIM_H
#define GATEWAY_CHIREDIS_SHIM_H
// hiredis is used only through its non-variadic entry points (redisCommandArgv,
// redisAppendCommandArgv, redisGetReply), which Swift imports directly; no shim functions needed.
#include <hiredis/hiredis.h>
#endif
