/* llvm_api.h — the LLVM C API, loaded at run time.
 *
 * libLLVM and binaryen cannot be linked into one process the ordinary way: Debian's libbinaryen.so exports
 * its own copy of parts of LLVM's Support library (llvm::raw_ostream, ...), so libLLVM's static
 * constructors bind to binaryen's copies and crash before main. The compiler therefore opens libLLVM
 * with dlopen(RTLD_LOCAL | RTLD_DEEPBIND) the first time a native output is asked for, and calls the C
 * API through the pointers below: L(LLVMContextCreate)() instead of LLVMContextCreate().
 * O2W_LIBLLVM overrides the library's path (default: the one found at build time). */
#ifndef LLVM_API_H
#define LLVM_API_H
#include <stddef.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#define CG_LLVM_FUNCTIONS(X) \
  X(LLVMAddAlias2) \
  X(LLVMAddGlobal) \
  X(LLVMAppendBasicBlockInContext) \
  X(LLVMBuildCall2) \
  X(LLVMBuildInBoundsGEP2) \
  X(LLVMBuildRetVoid) \
  X(LLVMConstArray2) \
  X(LLVMConstInt) \
  X(LLVMConstStringInContext2) \
  X(LLVMContextCreate) \
  X(LLVMContextDispose) \
  X(LLVMCreateBuilderInContext) \
  X(LLVMCreateMemoryBufferWithMemoryRange) \
  X(LLVMCreatePassBuilderOptions) \
  X(LLVMCreateTargetDataLayout) \
  X(LLVMCreateTargetMachine) \
  X(LLVMDeleteGlobal) \
  X(LLVMDisposeBuilder) \
  X(LLVMDisposeErrorMessage) \
  X(LLVMDisposeMemoryBuffer) \
  X(LLVMDisposeMessage) \
  X(LLVMDisposeModule) \
  X(LLVMDisposePassBuilderOptions) \
  X(LLVMDisposeTargetData) \
  X(LLVMDisposeTargetMachine) \
  X(LLVMFunctionType) \
  X(LLVMGetBufferSize) \
  X(LLVMGetBufferStart) \
  X(LLVMGetErrorMessage) \
  X(LLVMGetFirstFunction) \
  X(LLVMGetFirstGlobal) \
  X(LLVMGetHostCPUFeatures) \
  X(LLVMGetHostCPUName) \
  X(LLVMGetLinkage) \
  X(LLVMGetNamedFunction) \
  X(LLVMGetNamedGlobal) \
  X(LLVMGetNextFunction) \
  X(LLVMGetNextGlobal) \
  X(LLVMGetParam) \
  X(LLVMGetTargetFromTriple) \
  X(LLVMGetValueName2) \
  X(LLVMGetVisibility) \
  X(LLVMGlobalGetValueType) \
  X(LLVMInitializeAArch64AsmPrinter) \
  X(LLVMInitializeAArch64Target) \
  X(LLVMInitializeAArch64TargetInfo) \
  X(LLVMInitializeAArch64TargetMC) \
  X(LLVMInitializeX86AsmPrinter) \
  X(LLVMInitializeX86Target) \
  X(LLVMInitializeX86TargetInfo) \
  X(LLVMInitializeX86TargetMC) \
  X(LLVMInt64TypeInContext) \
  X(LLVMInt32TypeInContext) \
  X(LLVMInt8TypeInContext) \
  X(LLVMIsDeclaration) \
  X(LLVMParseBitcodeInContext2) \
  X(LLVMPointerTypeInContext) \
  X(LLVMPositionBuilderAtEnd) \
  X(LLVMRemoveStringAttributeAtIndex) \
  X(LLVMReplaceAllUsesWith) \
  X(LLVMRunPasses) \
  X(LLVMSetAlignment) \
  X(LLVMSetGlobalConstant) \
  X(LLVMSetInitializer) \
  X(LLVMSetLinkage) \
  X(LLVMSetModuleDataLayout) \
  X(LLVMSetTarget) \
  X(LLVMSetValueName2) \
  X(LLVMTargetMachineEmitToMemoryBuffer) \
  X(LLVMTypeOf) \
  X(LLVMVerifyModule) \
  X(LLVMVoidTypeInContext)

#define X(f) extern __typeof__(f) *cg_llvm_##f;
CG_LLVM_FUNCTIONS(X)
#undef X
#define L(f) (*cg_llvm_##f)

/* loads libLLVM and every function above once; 0, or -1 with the reason in err */
int cg_llvm_load(char *err, size_t errsize);
#endif
