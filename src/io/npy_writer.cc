#include "io/npy_writer.h"

#include <fmt/format.h>

#include <cstring>

#include "io/file.h"

namespace frugal::io {

Status WriteNpyF32(const std::string& path, const float* data, const std::vector<int64_t>& shape) {
  std::string dims;
  int64_t count = 1;
  for (int64_t d : shape) {
    dims += fmt::format("{}, ", d);
    count *= d;
  }
  if (shape.size() > 1) dims.resize(dims.size() - 1);  // "(2, 3)" but "(2,)"
  std::string header = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", dims);
  // Magic (6) + version (2) + header length (2) + header, padded with spaces to 64 bytes, '\n'.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::vector<std::byte> out(10 + header.size() + static_cast<size_t>(count) * 4);
  std::memcpy(out.data(), "\x93NUMPY\x01\x00", 8);
  const auto len = static_cast<uint16_t>(header.size());
  std::memcpy(out.data() + 8, &len, 2);
  std::memcpy(out.data() + 10, header.data(), header.size());
  if (count > 0) std::memcpy(out.data() + 10 + header.size(), data, static_cast<size_t>(count) * 4);
  FRUGAL_ASSIGN_OR_RETURN(auto file, OpenAtomicWritableFile(path));
  FRUGAL_RETURN_IF_ERROR(file->Append(out));
  return file->Close();
}

}  // namespace frugal::io
