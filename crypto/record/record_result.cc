// Names of the record results, generated from their X-macro list.
#include "crypto/record/record_result.h"

namespace t38relay::crypto {

std::string_view RecordResultName(RecordResult result) {
  switch (result) {
#define T38RELAY_RECORD_RESULT_NAME(name, text) \
  case RecordResult::name:                      \
    return text;
    T38RELAY_RECORD_RESULTS(T38RELAY_RECORD_RESULT_NAME)
#undef T38RELAY_RECORD_RESULT_NAME
  }
  return "unknown";
}

}  // namespace t38relay::crypto
