package dev.kextharness.kernel.kext;

import net.bytebuddy.jar.asm.Handle;
import net.bytebuddy.jar.asm.Label;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.utility.OpenedClassReader;

import java.lang.invoke.CallSite;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The link step's preemption points, as a method visitor: an {@code invokedynamic} bound to the
 * kext's {@link Preemption} at
 * <ul>
 *   <li>the method's entry, so that recursion and code that loops by calling can be stopped;</li>
 *   <li>each backward jump (a loop's back-edge), so that a loop can be stopped where it spins;</li>
 *   <li>each exception handler's entry, so that a handler cannot swallow the stop: when the kext
 *       is being stopped, the handler throws again before its first instruction runs.</li>
 * </ul>
 * A point takes nothing from the operand stack and leaves nothing, and adds no branch, so the
 * class's stack map frames stay valid as they are. A handler whose own range covers it (javac's
 * handler that releases a monitor) gets no point: throwing there would catch itself for ever.
 */
final class PreemptionPoints extends MethodVisitor {
    /** False only when measuring what the points cost ({@link Preemption#POINTS_PROPERTY}). */
    static final boolean ENABLED = !"false".equals(System.getProperty(Preemption.POINTS_PROPERTY));

    /** The name of every point's call, for anyone reading the linked bytecode. */
    static final String NAME = "preemptionPoint";

    private static final Handle BOOTSTRAP = new Handle(Opcodes.H_INVOKESTATIC,
            KextSource.internalName(Preemption.class.getName()), "bootstrap",
            MethodType.methodType(CallSite.class, MethodHandles.Lookup.class, String.class, MethodType.class)
                    .toMethodDescriptorString(), false);

    /** Try blocks as {start, end, handler}, in the order the class file lists them. */
    private final List<Label[]> tryBlocks = new ArrayList<>();
    private final Map<Label, List<Integer>> blocksByHandler = new HashMap<>();
    /** Labels the code has passed, to tell a backward jump from a forward one. */
    private final Set<Label> visited = new HashSet<>();
    /** Try blocks whose range the code is in now. */
    private final Set<Integer> open = new HashSet<>();
    /** A handler entry was just visited: the point goes before its first instruction, after its frame. */
    private boolean pendingHandlerPoint;

    PreemptionPoints(MethodVisitor next) {
        super(OpenedClassReader.ASM_API, next);
    }

    @Override
    public void visitCode() {
        super.visitCode();
        point();
    }

    @Override
    public void visitTryCatchBlock(Label start, Label end, Label handler, String type) {
        blocksByHandler.computeIfAbsent(handler, h -> new ArrayList<>()).add(tryBlocks.size());
        tryBlocks.add(new Label[]{start, end, handler});
        super.visitTryCatchBlock(start, end, handler, type);
    }

    @Override
    public void visitLabel(Label label) {
        super.visitLabel(label);
        visited.add(label);
        for (int i = 0; i < tryBlocks.size(); i++) {
            Label[] block = tryBlocks.get(i);
            if (block[1] == label) {
                open.remove(i);
            }
            if (block[0] == label) {
                open.add(i);
            }
        }
        List<Integer> handled = blocksByHandler.get(label);
        if (handled != null && handled.stream().noneMatch(open::contains)) {
            pendingHandlerPoint = true;
        }
    }

    @Override
    public void visitJumpInsn(int opcode, Label label) {
        flush();
        if (visited.contains(label)) {
            point(); // before the jump: the condition's operands stay on the stack, untouched
        }
        super.visitJumpInsn(opcode, label);
    }

    @Override
    public void visitTableSwitchInsn(int min, int max, Label dflt, Label... labels) {
        flush();
        if (anyVisited(dflt, labels)) {
            point();
        }
        super.visitTableSwitchInsn(min, max, dflt, labels);
    }

    @Override
    public void visitLookupSwitchInsn(Label dflt, int[] keys, Label[] labels) {
        flush();
        if (anyVisited(dflt, labels)) {
            point();
        }
        super.visitLookupSwitchInsn(dflt, keys, labels);
    }

    private boolean anyVisited(Label dflt, Label[] labels) {
        if (visited.contains(dflt)) {
            return true;
        }
        for (Label l : labels) {
            if (visited.contains(l)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void visitInsn(int opcode) {
        flush();
        super.visitInsn(opcode);
    }

    @Override
    public void visitIntInsn(int opcode, int operand) {
        flush();
        super.visitIntInsn(opcode, operand);
    }

    @Override
    public void visitVarInsn(int opcode, int varIndex) {
        flush();
        super.visitVarInsn(opcode, varIndex);
    }

    @Override
    public void visitTypeInsn(int opcode, String type) {
        flush();
        super.visitTypeInsn(opcode, type);
    }

    @Override
    public void visitFieldInsn(int opcode, String owner, String name, String descriptor) {
        flush();
        super.visitFieldInsn(opcode, owner, name, descriptor);
    }

    @Override
    public void visitMethodInsn(int opcode, String owner, String name, String descriptor, boolean isInterface) {
        flush();
        super.visitMethodInsn(opcode, owner, name, descriptor, isInterface);
    }

    @Override
    public void visitInvokeDynamicInsn(String name, String descriptor, Handle bootstrapMethodHandle,
                                       Object... bootstrapMethodArguments) {
        flush();
        super.visitInvokeDynamicInsn(name, descriptor, bootstrapMethodHandle, bootstrapMethodArguments);
    }

    @Override
    public void visitLdcInsn(Object value) {
        flush();
        super.visitLdcInsn(value);
    }

    @Override
    public void visitIincInsn(int varIndex, int increment) {
        flush();
        super.visitIincInsn(varIndex, increment);
    }

    @Override
    public void visitMultiANewArrayInsn(String descriptor, int numDimensions) {
        flush();
        super.visitMultiANewArrayInsn(descriptor, numDimensions);
    }

    private void flush() {
        if (pendingHandlerPoint) {
            pendingHandlerPoint = false;
            point();
        }
    }

    private void point() {
        super.visitInvokeDynamicInsn(NAME, "()V", BOOTSTRAP);
    }
}
