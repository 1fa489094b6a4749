/* softcert plugin ABI, version 1 (DESIGN.md §3). Frozen: these names and signatures never change;
 * a later version only adds symbols.
 *
 * A plugin is a shared library that exports softcert_abi_version() returning SOFTCERT_ABI_VERSION
 * and any subset of the kernels below. Arrays are row-major and contiguous, rows × n unless stated.
 * A kernel returns SOFTCERT_OK (0) on success and nonzero to decline the call; a kernel never
 * writes outside its output and never changes its inputs.
 *
 * Return codes used by softcert's own kernels (a third-party plugin may return any nonzero value):
 *   SOFTCERT_OK                 0  success, every output written
 *   SOFTCERT_ERR_NULL           1  a required pointer is null (nothing written)
 *   SOFTCERT_ERR_EMPTY          2  n == 0, rows == 0 or count == 0 (for attention: any size 0)
 *   SOFTCERT_ERR_LABEL          3  a label is outside [0, n) (nothing written)
 *   SOFTCERT_ERR_TEMPERATURE    4  temperature is not finite and > 0 (T <= 0, NaN or inf)
 *   SOFTCERT_ERR_SIZE           5  rows × n (or another product of sizes) overflows size_t
 *   SOFTCERT_ERR_UNSUPPORTED    6  the kernel declines this call (type or shape it does not do)
 * Inputs are validated before anything is written, so on error the output is left untouched.
 */
#ifndef SOFTCERT_ABI_H
#define SOFTCERT_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SOFTCERT_ABI_VERSION 1

enum softcert_status {
  SOFTCERT_OK = 0,
  SOFTCERT_ERR_NULL = 1,
  SOFTCERT_ERR_EMPTY = 2,
  SOFTCERT_ERR_LABEL = 3,
  SOFTCERT_ERR_TEMPERATURE = 4,
  SOFTCERT_ERR_SIZE = 5,
  SOFTCERT_ERR_UNSUPPORTED = 6
};

int softcert_abi_version(void);
const char* softcert_name(void);

int softcert_softmax_f32(const float* x, float* y, size_t rows, size_t n);
int softcert_softmax_f64(const double* x, double* y, size_t rows, size_t n);
int softcert_log_softmax_f32(const float* x, float* y, size_t rows, size_t n);
int softcert_log_softmax_f64(const double* x, double* y, size_t rows, size_t n);
int softcert_logsumexp_f32(const float* x, float* out /* rows */, size_t rows, size_t n);
int softcert_logsumexp_f64(const double* x, double* out /* rows */, size_t rows, size_t n);
int softcert_softmax_temperature_f32(const float* x, float* y, size_t rows, size_t n, float t);
int softcert_softmax_temperature_f64(const double* x, double* y, size_t rows, size_t n, double t);
int softcert_sigmoid_f32(const float* x, float* y, size_t count);
int softcert_sigmoid_f64(const double* x, double* y, size_t count);
int softcert_cross_entropy_f32(const float* z, const int64_t* labels /* rows */, float* loss /* rows */, size_t rows, size_t n);
int softcert_cross_entropy_f64(const double* z, const int64_t* labels, double* loss, size_t rows, size_t n);
int softcert_cross_entropy_grad_f32(const float* z, const int64_t* labels, float* grad /* rows × n */, size_t rows, size_t n);
int softcert_cross_entropy_grad_f64(const double* z, const int64_t* labels, double* grad, size_t rows, size_t n);
int softcert_softmax_backward_f32(const float* y, const float* dy, float* dx, size_t rows, size_t n);
int softcert_softmax_backward_f64(const double* y, const double* dy, double* dx, size_t rows, size_t n);
int softcert_masked_softmax_f32(const float* x, const uint8_t* keep /* rows × n, 1 = attend */, float* y, size_t rows, size_t n);
int softcert_masked_softmax_f64(const double* x, const uint8_t* keep, double* y, size_t rows, size_t n);
int softcert_attention_f32(const float* q /* lq × d */, const float* k /* lk × d */, const float* v /* lk × dv */,
                           float* out /* lq × dv */, size_t lq, size_t lk, size_t d, size_t dv, int causal);
int softcert_attention_f64(const double* q, const double* k, const double* v,
                           double* out, size_t lq, size_t lk, size_t d, size_t dv, int causal);
/* reduced precision: values are IEEE binary16 / bfloat16 bit patterns */
int softcert_softmax_f16(const uint16_t* x, uint16_t* y, size_t rows, size_t n);
int softcert_softmax_bf16(const uint16_t* x, uint16_t* y, size_t rows, size_t n);
int softcert_log_softmax_f16(const uint16_t* x, uint16_t* y, size_t rows, size_t n);
int softcert_log_softmax_bf16(const uint16_t* x, uint16_t* y, size_t rows, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* SOFTCERT_ABI_H */
