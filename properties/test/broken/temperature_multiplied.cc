// broken-temperature_multiplied: softmax_temperature computes softmax(z * T) instead of softmax(z / T)
// (temperature confused with the inverse temperature β = 1/T): T > 1 sharpens instead of flattening.
// In the wild: sampling code that multiplies logits by the temperature.
// Revealed by: f32 softmax_temperature([0x0p+0, 0x1p+0], T = 0x1p+1) = [0x1.e84152p-4, 0x1.c2f7d4p-1]; exact [0x1.829a06p-2, 0x1.3eb2fep-1].
#include "common.hpp"

namespace {
struct TemperatureMultiplied : broken::Stable<TemperatureMultiplied> {
  template <typename T>
  static T scale(T x, T t) {
    return x * t;  // BUG: should be x / t
  }
};
}  // namespace

BROKEN_PLUGIN("temperature_multiplied")
BROKEN_EXPORT_SOFTMAX_FAMILY(TemperatureMultiplied)
BROKEN_EXPORT_SOFTMAX_TEMPERATURE(TemperatureMultiplied)
