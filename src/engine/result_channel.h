// Result channel: decodes the frame the harness wrote on its dedicated fd. The script runs in
// the same process as the harness and controls these bytes, so nothing is trusted: the frame
// must be one well-formed JSON object of bounded size and depth, and only the error types a
// script can legitimately cause are accepted from it.
//
//   engine::Outcome o;
//   engine::decode_result_frame(bytes, limits, o);  // fills error/message/result/details
#pragma once

#include <string_view>

#include "engine/limits.h"
#include "engine/outcome.h"

namespace stacksync::engine {

// Fills outcome.error, message, result and details from the frame.
void decode_result_frame(std::string_view frame, const Limits& limits, Outcome& outcome);

}  // namespace stacksync::engine
