// libFuzzer target: arbitrary bytes as a GGUF file. The reader must return a status or a file
// whose every tensor lies inside the input; the model config loader and footprint must cope
// with whatever the reader accepts. Build: scripts/build.sh fuzz; run: see docs/FUZZING.md.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "io/gguf_file.h"
#include "model/config.h"
#include "model/footprint.h"
#include "util/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::byte> bytes(size);
  if (size) std::memcpy(bytes.data(), data, size);
  auto file = frugal::io::ReadGguf(frugal::io::NewMemoryFile("fuzz", std::move(bytes)));
  if (!file.ok()) return 0;
  for (const frugal::io::GgufTensorInfo& t : file->tensors()) {
    FRUGAL_CHECK_LE(t.file_offset + t.n_bytes, size);
    auto span = file->MappedTensorData(t);
    FRUGAL_CHECK(span.ok());
    FRUGAL_CHECK_EQ(span->size(), t.n_bytes);
  }
  for (const auto& kv : file->metadata()) (void)frugal::io::FormatGgufValue(kv.second);
  auto config = frugal::model::LoadModelConfig(*file);
  if (config.ok()) (void)frugal::model::ComputeFootprint(*config, frugal::model::TensorEntriesOf(*file));
  return 0;
}
