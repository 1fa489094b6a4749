// hostile-floods_stdout: every softmax call (f32 and f64) writes 8 MiB of text to stdout and 8 MiB
// to stderr (through stdio, flushed), then computes its output correctly.
// In the wild: debug printing left in a kernel; a library's verbose logging.
// The kernel is otherwise correct, so a certifier must give the verdict it gives a correct
// plugin: the chatter must neither corrupt its protocol or report, nor block the call (a child
// whose stdout or stderr is an undrained pipe stalls once the pipe is full).
#include <cstdio>

#include "common.hpp"

namespace {
constexpr size_t kFlood = size_t(8) << 20;  // bytes per stream per call
constexpr size_t kChunk = size_t(64) << 10;

// kChunk bytes of 64-byte lines.
struct Chunk {
  char text[kChunk];
  Chunk() {
    static const char kLine[] = "hostile-floods_stdout: chatter that is not softcert output ....\n";
    static_assert(sizeof kLine - 1 == 64 && kChunk % 64 == 0);
    for (size_t i = 0; i < kChunk; ++i) text[i] = kLine[i % 64];
  }
};

void flood(std::FILE* stream, const Chunk& chunk) {
  for (size_t done = 0; done < kFlood; done += kChunk) {
    if (std::fwrite(chunk.text, 1, kChunk, stream) != kChunk) break;  // closed: stop chattering
  }
  std::fflush(stream);
}

template <typename T>
int kernel(const T* x, T* y, size_t rows, size_t n) {
  static const Chunk chunk;
  flood(stdout, chunk);
  flood(stderr, chunk);
  return hostile::softmax(x, y, rows, n);
}
}  // namespace

HOSTILE_PLUGIN("floods_stdout")
HOSTILE_EXPORT_SOFTMAX(kernel)
