// Trains the digits MLP through the C API of the library `graft compile`
// built from examples/digits_mlp.graft, saves a checkpoint, reloads it into
// a fresh context and reports the test accuracy.
//
//   embed TRAIN.csv TEST.csv CHECKPOINT [EPOCHS]
#include "digits_mlp.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {
constexpr int64_t B = DIGITS_MLP_INPUT_X_SHAPE_0;
constexpr int64_t F = DIGITS_MLP_INPUT_X_NUMEL / B;
constexpr int64_t C = DIGITS_MLP_OUTPUT_LOGITS_NUMEL / B;

struct Data {
  std::vector<float> x;
  std::vector<int64_t> y;
  size_t rows() const { return y.size(); }
};

bool readCSV(const char *path, Data &d) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) // the header
    return false;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell;
    for (int64_t i = 0; i < F; ++i) {
      if (!std::getline(ss, cell, ','))
        return false;
      d.x.push_back(std::stof(cell));
    }
    if (!std::getline(ss, cell, ','))
      return false;
    d.y.push_back(std::stoll(cell));
  }
  return true;
}

#define CHECK(call)                                                            \
  do {                                                                         \
    graft_status s_ = (call);                                                  \
    if (s_ != GRAFT_OK) {                                                      \
      std::fprintf(stderr, "%s failed: %s (%s)\n", #call,                     \
                   graft_status_string(s_), graft_last_error());              \
      std::exit(1);                                                            \
    }                                                                          \
  } while (0)

double accuracy(graft_context *ctx, const Data &d) {
  float *x, *logits;
  CHECK(graft_tensor_data(ctx, DIGITS_MLP_INPUT_X, (void **)&x));
  CHECK(graft_tensor_data(ctx, DIGITS_MLP_OUTPUT_LOGITS, (void **)&logits));
  size_t right = 0;
  for (size_t start = 0; start < d.rows(); start += B) {
    for (int64_t i = 0; i < B; ++i) {
      size_t row = std::min(start + i, d.rows() - 1); // pad the last batch
      std::copy_n(&d.x[row * F], F, x + i * F);
    }
    CHECK(graft_predict(ctx));
    for (int64_t i = 0; i < B && start + i < d.rows(); ++i) {
      const float *r = logits + i * C;
      right += (std::max_element(r, r + C) - r) == d.y[start + i];
    }
  }
  return 100.0 * right / d.rows();
}
} // namespace

int main(int argc, char **argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: embed TRAIN.csv TEST.csv CHECKPOINT [EPOCHS]\n");
    return 2;
  }
  int epochs = argc > 4 ? std::atoi(argv[4]) : 5;
  Data train, test;
  if (!readCSV(argv[1], train) || !readCSV(argv[2], test)) {
    std::fprintf(stderr, "cannot read the data\n");
    return 1;
  }
  graft_context *ctx;
  CHECK(digits_mlp_create(&ctx));
  CHECK(graft_init(ctx, 0));
  float *x;
  int64_t *y;
  CHECK(graft_tensor_data(ctx, DIGITS_MLP_INPUT_X, (void **)&x));
  CHECK(graft_tensor_data(ctx, DIGITS_MLP_INPUT_Y, (void **)&y));
  std::vector<size_t> order(train.rows());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(0);
  for (int epoch = 0; epoch < epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    double sum = 0;
    size_t steps = train.rows() / B;
    for (size_t s = 0; s < steps; ++s) {
      for (int64_t i = 0; i < B; ++i) {
        size_t row = order[s * B + i];
        std::copy_n(&train.x[row * F], F, x + i * F);
        y[i] = train.y[row];
      }
      double loss;
      CHECK(graft_train_step(ctx, &loss));
      sum += loss;
    }
    std::printf("epoch %d: loss %.4f\n", epoch + 1, sum / steps);
  }
  double before = accuracy(ctx, test);
  CHECK(graft_save(ctx, argv[3]));
  CHECK(graft_destroy(ctx));

  graft_context *loaded;
  CHECK(digits_mlp_create(&loaded));
  CHECK(graft_load(loaded, argv[3]));
  double after = accuracy(loaded, test);
  CHECK(graft_destroy(loaded));
  std::printf("accuracy before saving: %.2f%%\n", before);
  std::printf("test accuracy: %.2f%% (%zu samples, reloaded from %s)\n", after,
              test.rows(), argv[3]);
  return before == after ? 0 : 1;
}
