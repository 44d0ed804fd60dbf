//===- GraftDialect.td - The graft dialect -----------------*- tablegen -*-===//
//
// The graft dialect: tensor programs with PyTorch autograd semantics, before
// differentiation. See docs/Dialect.md for the rationale.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_DIALECT
#define GRAFT_DIALECT

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Graft_Dialect : Dialect {
  let name = "graft";
  let cppNamespace = "::graft";
  let summary = "Tensor programs with PyTorch autograd semantics";
  let description = [{
    The graft dialect describes a model as PyTorch would run it in eager mode:
    named inputs, parameters and buffers (with state_dict names), value-semantic
    tensor ops under their PyTorch names, in-place variants of some of them,
    and the autograd facts that decide which gradients exist: `requires_grad`
    on inputs, `frozen` parameters, `detach`, and grad-mode regions
    (`graft.no_grad`, `graft.inference`). The loss, named outputs, retained
    gradients and gradient hook points are marked with ops of their own.

    Everything is statically shaped: named dimensions (a batch size) are fixed
    when the model is compiled.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  // graft.role and graft.name on entry-point arguments and results
  // (kRoleAttrName and kNameAttrName in GraftEnums.h).
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  // The attributes passes put on ops: the autograd annotations
  // (graft-annotate-requires-grad, the backward's retained hook calls), the
  // mode of an entry point, the lowering's marks (a contraction, an
  // outlined kernel) and what the lowering records for the runtime (hook
  // points, the planned workspace). Each has a helper class here,
  // GraftDialect::<Name>AttrHelper, with its name.
  let discardableAttrs = (ins
    "::mlir::UnitAttr":$requires_grad,
    "::mlir::StringAttr":$grad_fn,
    "::mlir::UnitAttr":$retained,
    "::mlir::StringAttr":$mode,
    "::mlir::UnitAttr":$contraction,
    "::mlir::UnitAttr":$kernel,
    "::mlir::ArrayAttr":$hook_points,
    "::mlir::IntegerAttr":$workspace_bytes,
    "::mlir::IntegerAttr":$temporary_bytes
  );
}

//===----------------------------------------------------------------------===//
// Enums and attributes
//===----------------------------------------------------------------------===//

def Graft_Reduction : I32EnumAttr<"Reduction", "loss reduction", [
    I32EnumAttrCase<"none", 0>, I32EnumAttrCase<"mean", 1>,
    I32EnumAttrCase<"sum", 2>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::graft";
}
def Graft_ReductionAttr : EnumAttr<Graft_Dialect, Graft_Reduction, "reduction">;

// What an argument or result of an entry point (a function of the training
// program) holds: its `graft.role` attribute. The values up to `hook` are the
// C API's graft_role (graft_api.h; Library.cpp checks each at compile time);
// `workspace`, the planned temporaries, is the code generator's own.
def Graft_Role : I32EnumAttr<"Role", "role of an entry point's tensor", [
    I32EnumAttrCase<"param", 0>, I32EnumAttrCase<"buffer", 1>,
    I32EnumAttrCase<"grad", 2>, I32EnumAttrCase<"opt_state", 3>,
    I32EnumAttrCase<"hyper", 4>, I32EnumAttrCase<"seed", 5>,
    I32EnumAttrCase<"input", 6>, I32EnumAttrCase<"loss", 7>,
    I32EnumAttrCase<"output", 8>, I32EnumAttrCase<"input_grad", 9>,
    I32EnumAttrCase<"retained_grad", 10>, I32EnumAttrCase<"hook", 11>,
    I32EnumAttrCase<"workspace", 12>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::graft";
}
def Graft_RoleAttr : EnumAttr<Graft_Dialect, Graft_Role, "role"> {
  let summary = "What an entry point's argument or result holds";
}

def Graft_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "approximation used by gelu", [
    I32EnumAttrCase<"none", 0>, I32EnumAttrCase<"tanh", 1>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::graft";
}
def Graft_GeluApproximationAttr
    : EnumAttr<Graft_Dialect, Graft_GeluApproximation, "gelu_approximation">;

def Graft_ClampKind : I32EnumAttr<"ClampKind",
    "the PyTorch function a clamp stands for", [
    I32EnumAttrCase<"clamp", 0>, I32EnumAttrCase<"clamp_min", 1>,
    I32EnumAttrCase<"clamp_max", 2>, I32EnumAttrCase<"hardtanh", 3>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::graft";
}
def Graft_ClampKindAttr
    : EnumAttr<Graft_Dialect, Graft_ClampKind, "clamp_kind">;

def Graft_ComparePredicate : I32EnumAttr<"ComparePredicate",
    "elementwise comparison", [
    I32EnumAttrCase<"eq", 0>, I32EnumAttrCase<"ne", 1>,
    I32EnumAttrCase<"lt", 2>, I32EnumAttrCase<"le", 3>,
    I32EnumAttrCase<"gt", 4>, I32EnumAttrCase<"ge", 5>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::graft";
}
def Graft_ComparePredicateAttr
    : EnumAttr<Graft_Dialect, Graft_ComparePredicate, "predicate">;

def Graft_InitKind : I32EnumAttr<"InitKind", "parameter initialiser", [
    I32EnumAttrCase<"zeros", 0>, I32EnumAttrCase<"ones", 1>,
    I32EnumAttrCase<"constant", 2>, I32EnumAttrCase<"normal", 3>,
    I32EnumAttrCase<"uniform", 4>, I32EnumAttrCase<"kaiming_uniform", 5>,
    I32EnumAttrCase<"kaiming_normal", 6>, I32EnumAttrCase<"xavier_uniform", 7>,
    I32EnumAttrCase<"xavier_normal", 8>, I32EnumAttrCase<"trunc_normal", 9>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::graft";
}

def Graft_InitAttr : AttrDef<Graft_Dialect, "Init"> {
  let mnemonic = "init";
  let summary = "How a parameter or buffer is initialised";
  let description = [{
    An initialiser with torch.nn.init's name and arguments:

    | kind | arguments (defaults) |
    |---|---|
    | `zeros`, `ones` | none |
    | `constant` | `value` (required) |
    | `normal` | `mean` (0), `std` (1) |
    | `uniform` | `a` (0), `b` (1): the bounds |
    | `kaiming_uniform`, `kaiming_normal` | `a` (0), `mode` (`"fan_in"` or `"fan_out"`), `nonlinearity` (`"leaky_relu"`, `"relu"`, `"linear"`, `"tanh"`, `"sigmoid"`) |
    | `xavier_uniform`, `xavier_normal` | `gain` (1) |
    | `trunc_normal` | `mean` (0), `std` (1), `a` (-2), `b` (2): N(mean, std) truncated to [a, b] (absolute bounds, as torch.nn.init.trunc_normal_) |

    Example: `#graft.init<kaiming_uniform, {a = 2.2360679774997898 : f64}>`.
    Fan-in and fan-out are computed from the shape as torch.nn.init does.
  }];
  let parameters = (ins
    EnumParameter<Graft_InitKind>:$kind,
    OptionalParameter<"::mlir::DictionaryAttr">:$args);
  let assemblyFormat = "`<` $kind (`,` $args^)? `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The numeric argument `name`, or `fallback` when it is not given.
    double getNumber(::llvm::StringRef name, double fallback) const;
    /// The string argument `name`, or `fallback` when it is not given.
    ::llvm::StringRef getString(::llvm::StringRef name,
                                ::llvm::StringRef fallback) const;
  }];
}

def Graft_LoweringConfigAttr : AttrDef<Graft_Dialect, "LoweringConfig"> {
  let mnemonic = "lowering_config";
  let summary = "How the code generator lowers one op: its strategy's choice";
  let description = [{
    What a target's strategy chose for one op, put on the op (as
    `graft.lowering_config`) by the strategy pass (`graft-cpu-strategy`)
    and read by the passes that carry it out (`graft-cpu-schedule`), so
    the choice is made in one place, can be read in the IR and tested on
    its own, and can be written by hand in a test.

    - `tile_sizes`: one size per loop (0: not tiled). For a matrix
      product iterated (m, n, k), the register tile; for another op, its
      vector tile (`graft-cpu-vectorize`) or, for a large op with
      reductions, the tiles that threads split (`graft-cpu-schedule`);
    - `interchange` (optional): the order of the tile loops, outermost
      first; `[1, 0, 2]` puts a product's column blocks outside;
    - `pad_operands` (optional): the operands copied into rows a cache line
      longer first (rows a multiple of 1 KiB apart share cache sets);
    - `pack_operands` (optional): a product's B operands (read as [k, n])
      copied first into panels as wide as the register tile, each panel's
      rows one after another (`[n / tile, k, tile]`, as BLAS packs B), so
      a tile's k loop reads memory in order;
    - `threads` (optional): the dim whose tile loop threads may split (it
      becomes an `scf.forall`); absent, the op runs on one thread. The
      tile loops outside it must have one iteration each.

    Example: `#graft.lowering_config<tile_sizes = [4, 64, 0]
    interchange = [1, 0, 2] pad_operands = [1] threads = 1>`.
  }];
  let parameters = (ins
    ArrayRefParameter<"int64_t", "tile size per loop">:$tileSizes,
    OptionalArrayRefParameter<"int64_t", "tile loop order">:$interchange,
    OptionalArrayRefParameter<"int64_t", "operands to pad">:$padOperands,
    OptionalArrayRefParameter<"int64_t", "operands to pack">:$packOperands,
    OptionalParameter<"std::optional<int64_t>",
                      "the dim whose tile loop threads split">:$threads);
  let assemblyFormat = [{
    `<` `tile_sizes` `=` `[` $tileSizes `]`
    (`interchange` `=` `[` $interchange^ `]`)?
    (`pad_operands` `=` `[` $padOperands^ `]`)?
    (`pack_operands` `=` `[` $packOperands^ `]`)?
    (`threads` `=` $threads^)? `>`
  }];
  let genVerifyDecl = 1;
}

// The kernel a GPU strategy chose for an op (see Graft_GPUConfigAttr).
def Graft_GPUKernel : I32EnumAttr<"GPUKernel", "kind of GPU kernel", [
    I32EnumAttrCase<"product", 0>, I32EnumAttrCase<"tensor_core_product", 1>,
    I32EnumAttrCase<"row_reduction", 2>,
    I32EnumAttrCase<"column_reduction", 3>,
    I32EnumAttrCase<"full_reduction", 4>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::graft";
}

def Graft_GPUConfigAttr : AttrDef<Graft_Dialect, "GPUConfig"> {
  let mnemonic = "gpu_config";
  let summary = "Which GPU kernel runs one op, and its tiling: the GPU strategy's choice";
  let description = [{
    What the GPU strategy (`graft-gpu-strategy`,
    include/graft/Codegen/GPUStrategy.h) chose for one `linalg.generic` on
    buffers, put on the op as `graft.gpu_config` and carried out by
    `graft-gpu-schedule`. An op without one is lowered by the default
    path (one thread per output).

    - `product`: a shared-memory tiled product kernel of 16x16 threads,
      each block a `tile`x`tile` tile of C (16, 32 or 64), with `slices`
      groups of threads taking turns over k (1, 2 or 4; more than 1 only
      with 16x16 tiles; absent: 1);
    - `tensor_core_product`: the same kernel with 8 warps of TF32
      `mma.sync` per block, `tile` 32, 64 or 128;
    - `row_reduction`: a warp per output;
    - `column_reduction`: blocks of 32 outputs by 32 slices;
    - `full_reduction`: one block of 1024 threads, for a reduction to one
      value.

    Example: `#graft.gpu_config<product tile = 16 slices = 4>`,
    `#graft.gpu_config<tensor_core_product tile = 128>`,
    `#graft.gpu_config<row_reduction>`.
  }];
  let parameters = (ins
    EnumParameter<Graft_GPUKernel>:$kernel,
    OptionalParameter<"std::optional<int64_t>", "a product's C tile">:$tile,
    OptionalParameter<"std::optional<int64_t>",
                      "groups of threads that split k">:$slices);
  let assemblyFormat = [{
    `<` $kernel (`tile` `=` $tile^)? (`slices` `=` $slices^)? `>`
  }];
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Graft_FloatElement : AnyTypeOf<[F32, F64, BF16]>;
def Graft_IndexElement : AnyTypeOf<[I64, I32]>;
def Graft_Element : AnyTypeOf<[F32, F64, BF16, I64, I32, I1]>;

class Graft_StaticTensorOf<list<Type> elts, string desc>
    : Type<And<[TensorOf<elts>.predicate, HasStaticShapePred]>,
           "statically shaped tensor of " # desc, "::mlir::RankedTensorType">;

def Graft_Tensor : Graft_StaticTensorOf<[Graft_Element],
    "f32, f64, bf16, i64, i32 or i1 values">;
def Graft_FloatTensor : Graft_StaticTensorOf<[Graft_FloatElement],
    "f32, f64 or bf16 values">;
def Graft_IndexTensor : Graft_StaticTensorOf<[Graft_IndexElement],
    "i64 or i32 values">;
def Graft_MaskTensor : Graft_StaticTensorOf<[I1], "i1 values">;
def Graft_ScalarFloatTensor : Type<
    And<[Graft_FloatTensor.predicate,
         CPred<"::llvm::cast<::mlir::RankedTensorType>($_self).getRank() == 0">]>,
    "0-d tensor of f32, f64 or bf16", "::mlir::RankedTensorType">;

#endif // GRAFT_DIALECT
