//===- Init.cpp - torch.nn.init's distributions, resolved -----------------===//

#include "graft/Dialect/Graft/IR/Init.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "graft/Dialect/Graft/IR/ShapeFunctions.h"

#include <cmath>

using namespace graft;

static llvm::Error err(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

llvm::Expected<std::pair<int64_t, int64_t>>
graft::fanInAndFanOut(llvm::ArrayRef<int64_t> shape) {
  if (shape.size() < 2)
    return err("Fan in and fan out can not be computed for tensor with fewer "
               "than 2 dimensions");
  int64_t receptive = shape::numel(shape.drop_front(2));
  return std::make_pair(shape[1] * receptive, shape[0] * receptive);
}

llvm::Expected<double> graft::calculateGain(llvm::StringRef nl, double param) {
  if (nl == "linear" || nl == "sigmoid" || nl.starts_with("conv"))
    return 1.0;
  if (nl == "tanh")
    return 5.0 / 3.0;
  if (nl == "relu")
    return std::sqrt(2.0);
  if (nl == "leaky_relu")
    return std::sqrt(2.0 / (1.0 + param * param));
  if (nl == "selu")
    return 3.0 / 4.0;
  return err("Unsupported nonlinearity " + nl);
}

llvm::Expected<InitDistribution>
graft::resolveInit(InitAttr init, llvm::ArrayRef<int64_t> shape) {
  using D = InitDistribution;
  // U(-sqrt(3) std, sqrt(3) std) or N(0, std), as torch.nn.init's kaiming_*
  // and xavier_* draw.
  auto uniformOrNormal = [](bool uniform, double std) -> D {
    if (uniform)
      return {D::Uniform, -std::sqrt(3.0) * std, std::sqrt(3.0) * std};
    return {D::Normal, 0.0, std};
  };
  switch (init.getKind()) {
  case InitKind::zeros:
    return D{D::Zero, 0.0, 0.0};
  case InitKind::ones:
    return D{D::Constant, 1.0, 0.0};
  case InitKind::constant:
    return D{D::Constant, init.getNumber("value", 0.0), 0.0};
  case InitKind::normal:
    return D{D::Normal, init.getNumber("mean", 0.0), init.getNumber("std", 1.0)};
  case InitKind::uniform:
    return D{D::Uniform, init.getNumber("a", 0.0), init.getNumber("b", 1.0)};
  case InitKind::kaiming_uniform:
  case InitKind::kaiming_normal: {
    auto fans = fanInAndFanOut(shape);
    if (!fans)
      return fans.takeError();
    llvm::StringRef mode = init.getString("mode", "fan_in");
    if (mode != "fan_in" && mode != "fan_out")
      return err("Mode " + mode + " not supported, please use one of fan_in, "
                 "fan_out");
    int64_t fan = mode == "fan_in" ? fans->first : fans->second;
    auto gain = calculateGain(init.getString("nonlinearity", "leaky_relu"),
                              init.getNumber("a", 0.0));
    if (!gain)
      return gain.takeError();
    double std = *gain / std::sqrt(static_cast<double>(fan));
    return uniformOrNormal(init.getKind() == InitKind::kaiming_uniform, std);
  }
  case InitKind::trunc_normal:
    return D{D::TruncNormal, init.getNumber("mean", 0.0),
             init.getNumber("std", 1.0), init.getNumber("a", -2.0),
             init.getNumber("b", 2.0)};
  case InitKind::xavier_uniform:
  case InitKind::xavier_normal: {
    auto fans = fanInAndFanOut(shape);
    if (!fans)
      return fans.takeError();
    double std = init.getNumber("gain", 1.0) *
                 std::sqrt(2.0 / static_cast<double>(fans->first + fans->second));
    return uniformOrNormal(init.getKind() == InitKind::xavier_uniform, std);
  }
  }
  return err("unknown initialiser");
}
