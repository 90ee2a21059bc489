package dev.gatehouse.serving.constrain;

import java.util.ArrayList;
import java.util.List;

/**
 * Where a constrained answer stands after the bytes written so far: the parse stacks they allow (usually
 * one; more while an anyOf has not yet been decided, or a number or literal may end or go on). Immutable, and
 * equal states compare equal, so a state is the key of its token mask.
 *
 * <p>The parser works on bytes, not characters, because tokens end anywhere: inside a UTF-8 sequence, an
 * escape, a key or a number. Whitespace between JSON tokens is bounded ({@link #MAX_WHITESPACE} per run) and
 * so is nesting ({@link #MAX_DEPTH}), so no model can loop on either; once the document is complete nothing
 * may follow it.
 */
final class ParseState {
    static final int MAX_WHITESPACE = 20;
    static final int MAX_DEPTH = 32;

    /** Keys of objects without declared properties. */
    private static final Grammar.Str FREE_KEY = new Grammar.Str(0, -1, null);

    private final List<Stack> stacks;

    private ParseState(List<Stack> stacks) {
        this.stacks = stacks;
    }

    static ParseState start(Grammar root) {
        return new ParseState(List.of(Stack.EMPTY.push(new ValueF(root, 0))));
    }

    /** The state after byte {@code b} (0..255), or null when the document cannot go on with it. */
    ParseState advance(int b) {
        if (stacks.size() == 1 && stacks.get(0).top != null && stacks.get(0).top.unchangedBy(b)) {
            return this; // the common case, a plain character inside a string: no allocation
        }
        Out out = new Out();
        for (Stack s : stacks) {
            feed(s, b, out);
        }
        return out.list.isEmpty() ? null : new ParseState(List.copyOf(out.list));
    }

    /** Whether the document may end here (it is a whole value of the grammar). */
    boolean accepting() {
        for (Stack s : stacks) {
            if (accepting(s)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Characters written so far of the formatted string (date, uuid, ...) the document is inside, or -1 when it
     * is not inside one.
     */
    int formatChars() {
        if (stacks.size() == 1 && stacks.get(0).top instanceof StrF s && s.text != null) {
            return s.text.length();
        }
        return -1;
    }

    /**
     * Inside a plain string (no format, not in an escape or a character): how many more characters it may take,
     * {@code Integer.MAX_VALUE} when unbounded; -1 when the state is not that.
     */
    int plainStringRoom() {
        if (stacks.size() == 1 && stacks.get(0).top instanceof StrF s && s.text == null && s.esc == 0 && s.utf8 == 0) {
            return s.node.max < 0 ? Integer.MAX_VALUE : s.node.max - s.count;
        }
        return -1;
    }

    /** Whether the document is complete and nothing may follow. */
    boolean finished() {
        for (Stack s : stacks) {
            if (s != Stack.EMPTY && !s.equals(Stack.EMPTY)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ParseState p && p.stacks.equals(stacks);
    }

    @Override
    public int hashCode() {
        return stacks.hashCode();
    }

    private static boolean accepting(Stack s) {
        if (s.top == null) {
            return true;
        }
        return s.top.canEnd() && accepting(complete(s.below, s.top));
    }

    // ---- the parse stack and its frames ------------------------------------------------------------

    /** A parse stack: the innermost frame on top. {@link #EMPTY} is a finished document. */
    record Stack(Frame top, Stack below, int depth) {
        static final Stack EMPTY = new Stack(null, null, 0);

        Stack push(Frame f) {
            return new Stack(f, this, depth + 1);
        }

        Stack replace(Frame f) {
            return new Stack(f, below, depth);
        }
    }

    /** The successor stacks of one step, without repeats. */
    private static final class Out {
        final List<Stack> list = new ArrayList<>(2);

        void add(Stack s) {
            if (s != null && !list.contains(s)) {
                list.add(s);
            }
        }
    }

    /** One open construct: a value to come, an object, an array, a string, a number or a literal. */
    sealed interface Frame permits ValueF, ObjF, ArrF, StrF, NumF, LitF, SeqF {
        /** This frame, on top of {@code self}, reads byte {@code b}; the successor stacks go to {@code out}. */
        void consume(Stack self, int b, Out out);

        /** Whether the construct may end here, the next byte then belonging to the one around it. */
        default boolean canEnd() {
            return false;
        }

        /** Whether byte {@code b} leaves this frame as it is and can mean nothing else. */
        default boolean unchangedBy(int b) {
            return false;
        }

        /** This frame once the construct inside it ({@code child}) is complete; null when that completes it too. */
        default Frame childDone(Frame child) {
            throw new IllegalStateException(getClass().getSimpleName() + " has no inner construct");
        }
    }

    private static void feed(Stack s, int b, Out out) {
        if (s.top == null) {
            return; // the document is complete: nothing may follow
        }
        Frame f = s.top;
        f.consume(s, b, out);
        if (f.canEnd()) {
            feed(complete(s.below, f), b, out);
        }
    }

    /** The stack once {@code done}, the frame that was on top of {@code below}, is complete. */
    private static Stack complete(Stack below, Frame done) {
        if (below.top == null) {
            return Stack.EMPTY;
        }
        Frame parent = below.top.childDone(done);
        return parent == null ? complete(below.below, below.top) : below.replace(parent);
    }

    private static boolean isWhitespace(int b) {
        return b == ' ' || b == '\n' || b == '\t' || b == '\r';
    }

    /** A value of {@code node} begins with byte {@code b}, on top of {@code below}. */
    private static void start(Stack below, Grammar node, int b, Out out) {
        switch (node) {
            case Grammar.Ref r -> start(below, r.target, b, out);
            case Grammar.AnyOf a -> {
                for (Grammar option : a.options) {
                    start(below, option, b, out);
                }
            }
            case Grammar.Obj o -> {
                if (b == '{' && below.depth < MAX_DEPTH) {
                    out.add(below.push(new ObjF(o, 0, ObjF.OPEN, 0, -1)));
                }
            }
            case Grammar.Arr a -> {
                if (b == '[' && below.depth < MAX_DEPTH) {
                    out.add(below.push(new ArrF(a, 0, ArrF.OPEN, 0)));
                }
            }
            case Grammar.Str s -> {
                if (b == '"') {
                    out.add(below.push(StrF.start(s)));
                }
            }
            case Grammar.Num n -> {
                if (b == '-' || (b >= '0' && b <= '9')) {
                    String text = String.valueOf((char) b);
                    if (NumberText.mayStart(text, n)) {
                        out.add(below.push(new NumF(n, text)));
                    }
                }
            }
            case Grammar.Literals l -> LitF.begin(below, l, b, out);
            case Grammar.Sequence q -> {
                SeqF first = new SeqF(q, 0);
                first.consume(below.push(first), b, out);
            }
        }
    }

    /** A value to come, after up to {@link #MAX_WHITESPACE} whitespace bytes. */
    record ValueF(Grammar node, int ws) implements Frame {
        @Override
        public void consume(Stack self, int b, Out out) {
            if (isWhitespace(b)) {
                if (ws < MAX_WHITESPACE) {
                    out.add(self.replace(new ValueF(node, ws + 1)));
                }
                return;
            }
            start(self.below, node, b, out);
        }
    }

    /**
     * An object: {@code next} is the declared property that may come next, {@code current} the one whose
     * value is being written (-1 for a free key).
     */
    record ObjF(Grammar.Obj node, int next, int phase, int ws, int current) implements Frame {
        static final int OPEN = 0, AFTER_COMMA = 1, IN_KEY = 2, AFTER_KEY = 3, IN_VALUE = 4, AFTER_VALUE = 5;

        @Override
        public void consume(Stack self, int b, Out out) {
            if (isWhitespace(b)) {
                if (ws < MAX_WHITESPACE) {
                    out.add(self.replace(new ObjF(node, next, phase, ws + 1, current)));
                }
                return;
            }
            switch (phase) {
                case OPEN, AFTER_COMMA -> {
                    if (b == '}' && phase == OPEN && mayClose()) {
                        out.add(complete(self.below, this));
                    } else if (b == '"') {
                        Stack inKey = self.replace(new ObjF(node, next, IN_KEY, 0, current));
                        if (node.freeKeys()) {
                            out.add(inKey.push(StrF.start(FREE_KEY)));
                        } else if (next < node.properties.size()) {
                            LitF.begin(inKey, node.keyChoices[next], b, out);
                        }
                    }
                }
                case AFTER_KEY -> {
                    if (b == ':') {
                        Grammar value = current >= 0 ? node.properties.get(current).value() : node.additional;
                        out.add(self.replace(new ObjF(node, next, IN_VALUE, 0, current)).push(new ValueF(value, 0)));
                    }
                }
                case AFTER_VALUE -> {
                    if (b == ',' && (node.freeKeys() || next < node.properties.size())) {
                        out.add(self.replace(new ObjF(node, next, AFTER_COMMA, 0, -1)));
                    } else if (b == '}' && mayClose()) {
                        out.add(complete(self.below, this));
                    }
                }
                default -> { }
            }
        }

        private boolean mayClose() {
            return node.freeKeys() || node.mayClose(next);
        }

        @Override
        public Frame childDone(Frame child) {
            if (phase == IN_KEY) {
                if (child instanceof LitF key) {
                    int property = key.literals.tags[key.lo];
                    return new ObjF(node, property + 1, AFTER_KEY, 0, property);
                }
                return new ObjF(node, next, AFTER_KEY, 0, -1);
            }
            return new ObjF(node, next, AFTER_VALUE, 0, -1);
        }
    }

    /** An array with {@code count} items so far (counted only as far as its bounds need). */
    record ArrF(Grammar.Arr node, int count, int phase, int ws) implements Frame {
        static final int OPEN = 0, AFTER_COMMA = 1, IN_VALUE = 2, AFTER_VALUE = 3;

        @Override
        public void consume(Stack self, int b, Out out) {
            if (isWhitespace(b)) {
                if (ws < MAX_WHITESPACE) {
                    out.add(self.replace(new ArrF(node, count, phase, ws + 1)));
                }
                return;
            }
            switch (phase) {
                case OPEN -> {
                    if (b == ']' && node.min == 0) {
                        out.add(complete(self.below, this));
                    } else if (node.max != 0) {
                        start(self.replace(new ArrF(node, count, IN_VALUE, 0)), node.items, b, out);
                    }
                }
                case AFTER_COMMA -> start(self.replace(new ArrF(node, count, IN_VALUE, 0)), node.items, b, out);
                case AFTER_VALUE -> {
                    if (b == ',' && (node.max < 0 || count < node.max)) {
                        out.add(self.replace(new ArrF(node, count, AFTER_COMMA, 0)));
                    } else if (b == ']' && count >= node.min) {
                        out.add(complete(self.below, this));
                    }
                }
                default -> { }
            }
        }

        @Override
        public Frame childDone(Frame child) {
            int counted = node.max < 0 ? Math.min(count + 1, node.min) : count + 1;
            return new ArrF(node, counted, AFTER_VALUE, 0);
        }
    }

    /**
     * Inside a string, after its opening quote. {@code count}: characters so far, counted only as far as the
     * bounds need; {@code esc}: 0 none, 1 after a backslash, 2..5 after {@code \}u and that many hex digits
     * less 2, 6 after {@code \}uD (a surrogate is not allowed); {@code utf8}: the continuation bytes still due
     * (bits 16+) and the range of the next (bits 8..15 and 0..7); {@code text}: the characters so far, for a format.
     */
    record StrF(Grammar.Str node, int count, int esc, int utf8, String text) implements Frame {
        private static final StrF DONE = new StrF(null, 0, 0, 0, null);

        static StrF start(Grammar.Str node) {
            return new StrF(node, 0, 0, 0, node.format == null ? null : "");
        }

        @Override
        public boolean unchangedBy(int b) {
            return esc == 0 && utf8 == 0 && text == null && node.max < 0 && count >= node.min
                    && b >= 0x20 && b < 0x80 && b != '"' && b != '\\';
        }

        @Override
        public void consume(Stack self, int b, Out out) {
            StrF next = next(b);
            if (next == DONE) {
                out.add(complete(self.below, this));
            } else if (next != null) {
                out.add(self.replace(next));
            }
        }

        private StrF next(int b) {
            if (text != null) { // a format: plain ASCII, checked against the format as it grows
                if (b == '"') {
                    return node.format.matches(text) && count >= node.min ? DONE : null;
                }
                if (b < 0x20 || b >= 0x7f || b == '\\' || (node.max >= 0 && count >= node.max)) {
                    return null;
                }
                String grown = text + (char) b;
                return node.format.mayStart(grown) ? new StrF(node, count + 1, 0, 0, grown) : null;
            }
            if (utf8 != 0) {
                int need = utf8 >>> 16;
                if (b < ((utf8 >>> 8) & 0xff) || b > (utf8 & 0xff)) {
                    return null;
                }
                return new StrF(node, count, 0, need == 1 ? 0 : continuation(need - 1, 0x80, 0xBF), null);
            }
            if (esc == 1) {
                if (b == '"' || b == '\\' || b == '/' || b == 'b' || b == 'f' || b == 'n' || b == 'r' || b == 't') {
                    return new StrF(node, count, 0, 0, null);
                }
                return b == 'u' ? new StrF(node, count, 2, 0, null) : null;
            }
            if (esc == 2 && (b == 'd' || b == 'D')) {
                return new StrF(node, count, 6, 0, null);
            }
            if (esc == 6) {
                return b >= '0' && b <= '7' ? new StrF(node, count, 4, 0, null) : null;
            }
            if (esc >= 2) {
                if (!isHex(b)) {
                    return null;
                }
                return new StrF(node, count, esc == 5 ? 0 : esc + 1, 0, null);
            }
            if (b == '"') {
                return count >= node.min ? DONE : null;
            }
            if (b < 0x20 || (node.max >= 0 && count >= node.max)) {
                return null; // a control character must be escaped; or the string is as long as it may be
            }
            int grown = node.max < 0 ? Math.min(count + 1, node.min) : count + 1;
            if (b == '\\') {
                return new StrF(node, grown, 1, 0, null);
            }
            if (b < 0x80) {
                return new StrF(node, grown, 0, 0, null);
            }
            int pending = b >= 0xC2 && b <= 0xDF ? continuation(1, 0x80, 0xBF)
                    : b == 0xE0 ? continuation(2, 0xA0, 0xBF)
                    : b == 0xED ? continuation(2, 0x80, 0x9F)
                    : b >= 0xE1 && b <= 0xEF ? continuation(2, 0x80, 0xBF)
                    : b == 0xF0 ? continuation(3, 0x90, 0xBF)
                    : b == 0xF4 ? continuation(3, 0x80, 0x8F)
                    : b >= 0xF1 && b <= 0xF3 ? continuation(3, 0x80, 0xBF)
                    : 0;
            return pending == 0 ? null : new StrF(node, grown, 0, pending, null);
        }

        private static int continuation(int need, int lo, int hi) {
            return need << 16 | lo << 8 | hi;
        }

        private static boolean isHex(int b) {
            return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
        }
    }

    /** A number being written; it may end wherever its text is a whole number of the node. */
    record NumF(Grammar.Num node, String text) implements Frame {
        @Override
        public void consume(Stack self, int b, Out out) {
            if ((b >= '0' && b <= '9') || b == '.' || b == 'e' || b == 'E' || b == '-' || b == '+') {
                String grown = text + (char) b;
                if (NumberText.mayStart(grown, node)) {
                    out.add(self.replace(new NumF(node, grown)));
                }
            }
        }

        @Override
        public boolean canEnd() {
            return NumberText.complete(text, node);
        }
    }

    /** {@code pos} bytes of one of the literals in [lo, hi) written; they all share those bytes. */
    record LitF(Grammar.Literals literals, int pos, int lo, int hi) implements Frame {
        static void begin(Stack below, Grammar.Literals literals, int b, Out out) {
            LitF fresh = new LitF(literals, 0, 0, literals.sorted.length);
            fresh.consume(below.push(fresh), b, out);
        }

        @Override
        public void consume(Stack self, int b, Out out) {
            byte[][] sorted = literals.sorted;
            int from = lo;
            while (from < hi && (sorted[from].length <= pos || (sorted[from][pos] & 0xff) < b)) {
                from++;
            }
            int to = from;
            while (to < hi && sorted[to].length > pos && (sorted[to][pos] & 0xff) == b) {
                to++;
            }
            if (from == to) {
                return;
            }
            LitF next = new LitF(literals, pos + 1, from, to);
            if (to - from == 1 && sorted[from].length == pos + 1) {
                out.add(complete(self.below, next)); // the only literal left, and it is whole
            } else {
                out.add(self.replace(next));
            }
        }

        @Override
        public boolean canEnd() {
            return literals.sorted[lo].length == pos; // sorted: a whole literal comes before those it starts
        }
    }

    /** The part {@code index} of a sequence is next. */
    record SeqF(Grammar.Sequence node, int index) implements Frame {
        @Override
        public void consume(Stack self, int b, Out out) {
            Grammar part = node.parts.get(index);
            if (part instanceof Grammar.Literals l) {
                LitF.begin(self, l, b, out);
            } else {
                ValueF value = new ValueF(part, 0);
                value.consume(self.push(value), b, out);
            }
        }

        @Override
        public Frame childDone(Frame child) {
            return index + 1 < node.parts.size() ? new SeqF(node, index + 1) : null;
        }
    }
}
