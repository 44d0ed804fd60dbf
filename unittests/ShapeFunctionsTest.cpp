//===- ShapeFunctionsTest.cpp - The shape rules, one by one ---------------===//

#include "graft/Dialect/Graft/IR/ShapeFunctions.h"

#include "gtest/gtest.h"

using namespace graft::shape;

namespace {
Shape ok(llvm::Expected<Shape> s) {
  if (!s) {
    ADD_FAILURE() << llvm::toString(s.takeError());
    return {};
  }
  return *s;
}
std::string err(llvm::Expected<Shape> s) {
  if (s) {
    ADD_FAILURE() << "expected an error, got " << str(*s);
    return "";
  }
  return llvm::toString(s.takeError());
}
std::string err(llvm::Error e) {
  EXPECT_TRUE(!!e) << "expected an error";
  return e ? llvm::toString(std::move(e)) : "";
}
} // namespace

TEST(ShapeFunctions, Broadcast) {
  EXPECT_EQ(ok(broadcast({4, 1}, {3})), (Shape{4, 3}));
  EXPECT_EQ(ok(broadcast({}, {2, 3})), (Shape{2, 3}));
  EXPECT_EQ(ok(broadcast({5, 1, 3}, {4, 1})), (Shape{5, 4, 3}));
  EXPECT_EQ(err(broadcast({4, 3}, {5})),
            "shapes [4, 3] and [5] are not broadcastable: the size of "
            "dimension 0 from the right is 3 vs 5 (sizes must be equal or 1)");
}

TEST(ShapeFunctions, BroadcastsTo) {
  EXPECT_FALSE(broadcastsTo({3}, {4, 3}));
  EXPECT_FALSE(broadcastsTo({1, 3}, {4, 3}));
  EXPECT_NE(err(broadcastsTo({4, 3}, {3})).find("more dimensions"),
            std::string::npos);
  EXPECT_NE(err(broadcastsTo({2}, {4, 3})).find("expected 3 or 1"),
            std::string::npos);
}

TEST(ShapeFunctions, Matmul) {
  EXPECT_EQ(ok(matmul({3}, {3})), Shape{});
  EXPECT_EQ(ok(matmul({2, 3}, {3})), (Shape{2}));
  EXPECT_EQ(ok(matmul({3}, {3, 4})), (Shape{4}));
  EXPECT_EQ(ok(matmul({2, 3}, {3, 4})), (Shape{2, 4}));
  EXPECT_EQ(ok(matmul({5, 1, 2, 3}, {4, 3, 7})), (Shape{5, 4, 2, 7}));
  EXPECT_NE(err(matmul({2, 3}, {4, 5})).find("contracted sizes are 3 and 4"),
            std::string::npos);
  EXPECT_NE(err(matmul({2, 2, 3}, {3, 3, 4})).find("batch dimensions"),
            std::string::npos);
}

TEST(ShapeFunctions, Linear) {
  EXPECT_EQ(ok(linear({8, 5, 4}, {2, 4}, ShapeRef({2}))), (Shape{8, 5, 2}));
  EXPECT_NE(err(linear({8, 3}, {2, 4}, std::nullopt)).find("in_features = 4"),
            std::string::npos);
  EXPECT_NE(err(linear({8, 4}, {2, 4}, ShapeRef({3}))).find("bias must be [2]"),
            std::string::npos);
}

TEST(ShapeFunctions, Reduce) {
  EXPECT_EQ(ok(reduce({4, 3, 2}, {}, false)), Shape{});
  EXPECT_EQ(ok(reduce({4, 3, 2}, {}, true)), (Shape{1, 1, 1}));
  EXPECT_EQ(ok(reduce({4, 3, 2}, {0, 2}, false)), (Shape{3}));
  EXPECT_EQ(ok(reduce({4, 3, 2}, {1}, true)), (Shape{4, 1, 2}));
  EXPECT_NE(err(reduce({4, 3}, {2}, false)).find("out of range"),
            std::string::npos);
  EXPECT_NE(err(reduce({4, 3}, {1, 1}, false)).find("more than once"),
            std::string::npos);
}

TEST(ShapeFunctions, Layout) {
  EXPECT_FALSE(reshape({4, 6}, {2, 12}));
  EXPECT_EQ(err(reshape({4, 6}, {5, 5})),
            "shape [5, 5] is invalid for input of size 24 (shape [4, 6])");
  EXPECT_EQ(ok(transpose({2, 3, 4}, 0, 2)), (Shape{4, 3, 2}));
  EXPECT_EQ(ok(permute({2, 3, 4}, {2, 0, 1})), (Shape{4, 2, 3}));
  EXPECT_NE(err(permute({2, 3, 4}, {0, 0, 1})).find("expected a permutation"),
            std::string::npos);
  EXPECT_EQ(ok(slice({10, 4}, 0, 2, 9, 3)), (Shape{3, 4}));
  EXPECT_EQ(ok(slice({10, 4}, 0, 8, 100, 1)), (Shape{2, 4}));
  EXPECT_EQ(ok(slice({10, 4}, 0, 7, 3, 1)), (Shape{0, 4}));
  EXPECT_NE(err(slice({10}, 0, 0, 5, 0)).find("step must be positive"),
            std::string::npos);
  Shape a = {4, 2}, b = {4, 3};
  ShapeRef parts[] = {a, b};
  EXPECT_EQ(ok(concat(parts, 1)), (Shape{4, 5}));
  EXPECT_NE(err(concat(parts, 0)).find("must match except in dimension 0"),
            std::string::npos);
}

TEST(ShapeFunctions, Conv2d) {
  // LeNet's first layer and a grouped, strided, dilated one.
  EXPECT_EQ(ok(conv2d({8, 1, 28, 28}, {6, 1, 5, 5}, ShapeRef({6}), {1, 1},
                      {2, 2}, {1, 1}, 1)),
            (Shape{8, 6, 28, 28}));
  EXPECT_EQ(ok(conv2d({2, 4, 17, 17}, {8, 2, 3, 3}, std::nullopt, {2, 2},
                      {1, 1}, {2, 2}, 2)),
            (Shape{2, 8, 8, 8}));
  EXPECT_NE(err(conv2d({2, 3, 8, 8}, {4, 2, 3, 3}, std::nullopt, {1, 1},
                       {0, 0}, {1, 1}, 1))
                .find("expects 2 input channels"),
            std::string::npos);
  EXPECT_NE(err(conv2d({2, 3, 2, 2}, {4, 3, 3, 3}, std::nullopt, {1, 1},
                       {0, 0}, {1, 1}, 1))
                .find("larger than the padded input"),
            std::string::npos);
}

TEST(ShapeFunctions, Pool2d) {
  EXPECT_EQ(ok(pool2d({8, 6, 28, 28}, {2, 2}, {2, 2}, {0, 0}, {1, 1}, false)),
            (Shape{8, 6, 14, 14}));
  // Values checked against torch.nn.functional.max_pool2d.
  EXPECT_EQ(ok(pool2d({1, 1, 5, 5}, {2, 2}, {2, 2}, {0, 0}, {1, 1}, true)),
            (Shape{1, 1, 3, 3}));
  EXPECT_EQ(ok(pool2d({1, 1, 6, 6}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, true)),
            (Shape{1, 1, 4, 4}));
  // The last window would start in the right padding: PyTorch drops it.
  EXPECT_EQ(ok(pool2d({1, 1, 7, 7}, {2, 2}, {2, 2}, {1, 1}, {1, 1}, true)),
            (Shape{1, 1, 4, 4}));
  EXPECT_NE(err(pool2d({1, 1, 6, 6}, {2, 2}, {2, 2}, {2, 2}, {1, 1}, false))
                .find("at most half of the kernel size"),
            std::string::npos);
}

TEST(ShapeFunctions, Normalisation) {
  EXPECT_FALSE(layerNorm({2, 8, 64}, {64}, ShapeRef({64}), ShapeRef({64})));
  EXPECT_FALSE(layerNorm({2, 8, 64}, {8, 64}, std::nullopt, std::nullopt));
  EXPECT_NE(err(layerNorm({2, 8, 64}, {32}, std::nullopt, std::nullopt))
                .find("does not end with normalized_shape"),
            std::string::npos);
  EXPECT_FALSE(batchNorm({8, 6, 4, 4}, ShapeRef({6}), ShapeRef({6}), {6}, {6}));
  EXPECT_NE(err(batchNorm({8, 6, 4, 4}, std::nullopt, std::nullopt, {5}, {6}))
                .find("running_mean must be [6]"),
            std::string::npos);
}

TEST(ShapeFunctions, EmbeddingAttentionLosses) {
  EXPECT_EQ(ok(embedding({65, 32}, {4, 16})), (Shape{4, 16, 32}));
  EXPECT_EQ(ok(attention({2, 4, 8, 16}, {2, 4, 6, 16}, {2, 4, 6, 10})),
            (Shape{2, 4, 8, 10}));
  EXPECT_NE(err(attention({2, 8, 16}, {2, 8, 12}, {2, 8, 16}))
                .find("same embedding size"),
            std::string::npos);
  EXPECT_EQ(ok(classLoss({16, 10}, {16}, true)), Shape{});
  EXPECT_EQ(ok(classLoss({16, 10}, {16}, false)), (Shape{16}));
  EXPECT_EQ(ok(classLoss({4, 10, 7}, {4, 7}, false)), (Shape{4, 7}));
  EXPECT_EQ(ok(classLoss({10}, {}, true)), Shape{});
  EXPECT_EQ(err(classLoss({16, 10}, {10}, true)),
            "expected target of shape [16] for input [16, 10] (classes in "
            "dimension 1), got [10]");
}
