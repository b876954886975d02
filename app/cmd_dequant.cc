// `frugal dequant`: writes one tensor as raw little-endian f32 (ne0 fastest), for diffing
// against the numpy reference (tests/reference/compare_dequant.py).
#include <cstdio>

#include "app/commands.h"
#include "io/gguf_file.h"
#include "kernels/dequantize.h"
#include "util/log.h"

namespace frugal::app {

Command AddDequantCommand(CLI::App& app) {
  struct Flags {
    std::string model, tensor, out;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("dequant", "write a tensor as raw f32 (for tests and debugging)");
  cmd->add_option("-m,--model", f->model, "GGUF file")->required();
  cmd->add_option("--tensor", f->tensor, "tensor name")->required();
  cmd->add_option("-o,--output", f->out, "output file")->required();
  return {cmd, [f]() -> int {
    auto file = io::OpenGguf(f->model);
    if (!file.ok()) {
      LogError("{}", file.status().ToString());
      return 1;
    }
    const io::GgufTensorInfo* t = file->FindTensor(f->tensor);
    if (t == nullptr) {
      LogError("no tensor '{}' in {}", f->tensor, f->model);
      return 1;
    }
    if (!kernels::CanDequantize(t->type)) {
      LogError("tensor '{}' has type {}, which frugal cannot dequantize", t->name, TypeName(t->type));
      return 1;
    }
    auto data = file->MappedTensorData(*t);
    if (!data.ok()) {
      LogError("{}", data.status().ToString());
      return 1;
    }
    const uint64_t n = t->shape.ne[0], row_bytes = RowBytes(t->type, n);
    std::vector<float> row(n);
    std::FILE* out = std::fopen(f->out.c_str(), "wb");
    if (out == nullptr) {
      LogError("cannot create '{}'", f->out);
      return 1;
    }
    bool ok = true;
    for (uint64_t r = 0; r < t->shape.rows() && ok; ++r) {
      kernels::DequantizeRow(t->type, data->data() + r * row_bytes, row.data(), static_cast<int64_t>(n));
      ok = std::fwrite(row.data(), sizeof(float), n, out) == n;
    }
    ok = std::fclose(out) == 0 && ok;
    if (!ok) LogError("write to '{}' failed", f->out);
    return ok ? 0 : 1;
  }};
}

}  // namespace frugal::app
