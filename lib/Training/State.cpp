//===- State.cpp - A compiled model's tensors on the host -----------------===//

#include "graft/Training/State.h"
#include "graft/Evaluator/Evaluator.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace mlir;
using namespace graft;
using namespace graft::training;

llvm::Error graft::training::trainingError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "graft: error: " + msg.str());
}

std::vector<Storage>
graft::training::slotsOf(const std::vector<TensorSlot> &slots) {
  std::vector<Storage> out;
  for (const TensorSlot &s : slots)
    out.emplace_back(s);
  return out;
}

std::vector<void *> graft::training::pointers(std::vector<Storage> &v) {
  std::vector<void *> p;
  for (Storage &s : v)
    p.push_back(s.bytes.data());
  return p;
}

std::vector<void *>
graft::training::resultPointers(std::vector<Storage> &args,
                                std::vector<Storage> &results) {
  std::vector<void *> p = pointers(results);
  for (auto [r, result] : llvm::enumerate(results))
    for (Storage &a : args)
      if (a.slot.role == result.slot.role && a.slot.name == result.slot.name)
        p[r] = a.bytes.data();
  return p;
}

void graft::training::copyState(std::vector<Storage> &to,
                                const std::vector<Storage> &from) {
  for (Storage &t : to)
    for (const Storage &f : from)
      if (f.slot.name == t.slot.name && f.slot.role == t.slot.role)
        t.bytes = f.bytes;
}

void graft::training::store(Storage &s, const eval::Tensor &t) {
  for (int64_t i = 0; i < s.slot.numel(); ++i) {
    double v = t.data[i];
    switch (s.slot.type) {
    case ElementType::F32:
      s.f32()[i] = (float)v;
      break;
    case ElementType::F64:
      s.f64()[i] = v;
      break;
    case ElementType::I64:
      s.i64()[i] = (int64_t)v;
      break;
    case ElementType::I32:
      ((int32_t *)s.bytes.data())[i] = (int32_t)v;
      break;
    case ElementType::I1:
      ((bool *)s.bytes.data())[i] = v != 0;
      break;
    case ElementType::BF16: { // rounded to nearest even, as the evaluator
      float f = (float)eval::roundTo(eval::DType::BF16, v);
      uint32_t bits;
      std::memcpy(&bits, &f, sizeof bits);
      ((uint16_t *)s.bytes.data())[i] = (uint16_t)(bits >> 16);
      break;
    }
    }
  }
}

llvm::Error graft::training::initialise(Storage &s, ModelOp model,
                                        uint64_t seed) {
  InitAttr init;
  RankedTensorType type;
  for (Operation &op : model.getBody().front()) {
    if (auto p = dyn_cast<ParamOp>(op); p && p.getName() == s.slot.name)
      init = p.getInit(), type = p.getType();
    else if (auto b = dyn_cast<BufferOp>(op); b && b.getName() == s.slot.name)
      init = b.getInit(), type = b.getType();
  }
  if (!init)
    return trainingError("no declaration of '" + s.slot.name + "'");
  auto t = eval::initTensor(init, type, seed, s.slot.name);
  if (!t)
    return t.takeError();
  store(s, *t);
  return llvm::Error::success();
}

std::vector<std::string> graft::training::checkpointKeys(const TensorSlot &slot,
                                                         ModelOp model) {
  if (slot.role == Role::opt_state)
    return {"optimizer." + slot.name};
  if (slot.role == Role::param)
    for (ParamOp p : model.getBody().getOps<ParamOp>())
      if (p.getName() == slot.name) {
        std::vector<std::string> keys;
        for (StringRef n : p.getStateDictNames())
          keys.push_back(n.str());
        return keys;
      }
  return {slot.name};
}

llvm::Error graft::training::loadState(std::vector<Storage> &slots,
                                       llvm::ArrayRef<Role> roles,
                                       const std::vector<NamedTensor> &tensors,
                                       llvm::StringRef path, ModelOp model,
                                       std::vector<std::string> *missing) {
  for (Storage &st : slots) {
    if (!llvm::is_contained(roles, st.slot.role))
      continue;
    std::vector<std::string> keys = checkpointKeys(st.slot, model);
    const NamedTensor *found = nullptr;
    for (const std::string &key : keys) {
      auto it = llvm::find_if(
          tensors, [&](const NamedTensor &t) { return t.name == key; });
      if (it == tensors.end())
        continue;
      if (it->shape != st.slot.shape || it->type != st.slot.type)
        return trainingError(path + ": tensor '" + key +
                             "' does not match the model's declaration "
                             "(shape or dtype differs)");
      if (found && found->bytes != it->bytes)
        return trainingError(path + ": '" + found->name + "' and '" + key +
                             "' are one tied parameter, but the file holds "
                             "different values for them");
      if (!found)
        found = &*it;
    }
    if (!found && missing) {
      missing->push_back(keys.front());
      continue;
    }
    if (!found)
      return trainingError(path + " has no tensor '" + keys.front() +
                           "' that the model needs");
    st.bytes.assign(found->bytes.begin(), found->bytes.end());
  }
  return llvm::Error::success();
}

std::vector<NamedTensor>
graft::training::stateTensors(const std::vector<Storage> &slots,
                              ModelOp model) {
  std::vector<NamedTensor> tensors;
  for (const Storage &a : slots)
    if (a.slot.role == Role::param || a.slot.role == Role::buffer ||
        a.slot.role == Role::opt_state)
      for (std::string &key : checkpointKeys(a.slot, model))
        tensors.push_back({std::move(key), a.slot.type, a.slot.shape,
                           std::vector<char>(a.bytes.begin(), a.bytes.end())});
  return tensors;
}

std::map<std::string, std::string> RunState::metadata() const {
  std::map<std::string, std::string> meta = {
      {"graft.model", model},
      {"graft.content", "full"},
      {"graft.epochs", std::to_string(epochs)},
      {"graft.steps", std::to_string(steps)},
      {"graft.seed", std::to_string(seed)}};
  for (const auto &[name, value] : hyper)
    llvm::raw_string_ostream(meta["graft.hyper." + name])
        << llvm::format("%.17g", value);
  meta.insert(extra.begin(), extra.end());
  return meta;
}
