package dev.gatehouse.serving.text;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;

/**
 * A chat template's source made ready for jinjava so that it means what it means to Jinja2.
 *
 * <ul>
 *   <li>Newlines become {@code \n} and one trailing newline goes, as Jinja2's lexer does
 *       ({@code keep_trailing_newline=False}).
 *   <li>Keyword arguments get parentheses around their value: jinjava parses {@code name=value}
 *       at the precedence of {@code +}, so Qwen3's {@code namespace(last_query_index=messages|length - 1)}
 *       would subtract 1 from the argument itself and fail. {@code name=(value)} means the same.
 *   <li>Unary {@code not} gets parentheses around its operand up to the next {@code and},
 *       {@code or}, {@code if}, {@code else} or closing bracket: Jinja2 reads
 *       {@code not x is defined} as {@code not (x is defined)}, jinjava as {@code (not x) is defined}.
 *   <li>A slice with a step, {@code messages[::-1]}, becomes {@code messages|step_slice(none, none, -1)}
 *       ({@link StepSliceFilter}): jinjava's slices take no step.
 *   <li>A loop filter, {@code {% for m in messages if m.role != 'system' %}}, becomes a loop that
 *       collects the items that pass and a loop over them: jinjava reads the {@code if} as an
 *       inline if and would not filter.
 * </ul>
 *
 * <p>Only expression and statement tags are rewritten; text, comments and raw blocks are copied
 * as they are, and so are strings inside tags and a macro's signature.
 */
final class Jinja2Source {

    /** Words after which a "not" is the unary operator (and not the "not" of "not in" / "is not"). */
    private static final Set<String> BEFORE_UNARY = Set.of("and", "or", "not", "if", "else", "elif", "in", "return");
    /** Words that end the operand of a unary "not". */
    private static final Set<String> ENDS_NOT = Set.of("and", "or", "if", "else");

    private final String src;
    private final StringBuilder out;
    private int pos;
    private int filteredLoops;

    private Jinja2Source(String src) {
        this.src = src;
        this.out = new StringBuilder(src.length() + 64);
    }

    static String of(String template) {
        String source = template.replace("\r\n", "\n").replace('\r', '\n');
        source = source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
        return new Jinja2Source(source).rewrite();
    }

    private String rewrite() {
        while (pos < src.length()) {
            if (src.startsWith("{{", pos)) {
                copyUpTo(pos + 2);
                tag("}}", false);
            } else if (src.startsWith("{%", pos)) {
                String word = firstWord(pos + 2);
                if (word.equals("raw")) {
                    int end = src.indexOf("endraw", pos);
                    copyUpTo(end < 0 ? src.length() : closeOf(end, "%}"));
                } else if (word.equals("macro")) {
                    copyUpTo(closeOf(pos, "%}"));
                } else if (word.equals("for") && loopFilter()) {
                    continue;
                } else {
                    copyUpTo(pos + 2);
                    tag("%}", true);
                }
            } else if (src.startsWith("{#", pos)) {
                copyUpTo(closeOf(pos, "#}"));
            } else {
                copyUpTo(pos + 1);
            }
        }
        return out.toString();
    }

    /** A group of parentheses this class opened, closed when the scan leaves it. */
    private record Group(int depth, boolean unaryNot) {}

    /** Copies one tag up to and including its end, rewriting as the class comment says. */
    private void tag(String end, boolean statement) {
        int depth = 0;
        Deque<Group> groups = new ArrayDeque<>();
        String previous = statement ? "" : "("; // the last token other than whitespace; a fresh expression
        boolean firstWord = statement;
        while (pos < src.length()) {
            if (depth == 0 && (src.startsWith(end, pos) || src.startsWith("-" + end, pos) || src.startsWith("+" + end, pos))) {
                break;
            }
            int tokenEnd = tokenEnd(pos);
            String token = src.substring(pos, tokenEnd);
            char c = token.charAt(0);
            if (Character.isWhitespace(c)) {
                copyUpTo(tokenEnd);
                continue;
            }
            boolean closing = c == ',' || c == ')' || c == ']' || c == '}' || c == ':';
            while (!groups.isEmpty() && groups.peek().depth() == depth
                    && (closing || (groups.peek().unaryNot() && ENDS_NOT.contains(token)))) {
                groups.pop();
                closeGroup();
            }
            if (c == '[' && stepSlice()) {
                previous = ")";
                continue;
            }
            if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
                depth--;
            }
            copyUpTo(tokenEnd);
            if (isName(token) && depth > 0 && (previous.equals("(") || previous.equals(",")) && keywordArgument()) {
                out.append('(');
                groups.push(new Group(depth, false));
                previous = "=";
                continue;
            }
            if (token.equals("not") && !firstWord && (!isOperand(previous) || BEFORE_UNARY.contains(previous))
                    && !nextWordIs("in")) {
                out.append(" (");
                groups.push(new Group(depth, true));
                previous = "(";
                continue;
            }
            firstWord = false;
            previous = token;
        }
        while (!groups.isEmpty()) {
            groups.pop();
            closeGroup();
        }
        copyUpTo(Math.min(src.length(), pos + (src.startsWith(end, pos) ? end.length() : end.length() + 1)));
    }

    /**
     * At a for tag: when it has a loop filter ({@code {% for m in messages if m.role != 'system' %}},
     * which jinjava reads as an inline if), writes a loop that collects the items that pass and
     * then the loop over them, so {@code loop.index} and {@code loop.last} count only those, as in
     * Jinja2; returns true.
     */
    private boolean loopFilter() {
        int depth = 0;
        int in = -1;
        int ifAt = -1;
        int i = pos + 2;
        int close = -1;
        while (i < src.length()) {
            char c = src.charAt(i);
            if (depth == 0 && (src.startsWith("%}", i) || src.startsWith("-%}", i) || src.startsWith("+%}", i))) {
                close = i;
                break;
            }
            int end = tokenEnd(i);
            String token = src.substring(i, end);
            if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
                depth--;
            } else if (depth == 0 && token.equals("in") && in < 0) {
                in = i;
            } else if (depth == 0 && token.equals("if") && in >= 0 && ifAt < 0) {
                ifAt = i;
            }
            i = end;
        }
        if (close < 0 || ifAt < 0) {
            return false;
        }
        int forStart = src.indexOf("for", pos + 2);
        String open = src.substring(pos, forStart);
        String target = src.substring(forStart + 3, in).strip();
        String items = src.substring(in + 2, ifAt).strip();
        String condition = src.substring(ifAt + 2, close).strip();
        String closing = src.substring(close, closeOf(close, "%}"));
        String kept = "gatehouse_filtered_loop" + filteredLoops++;
        String item = target.contains(",") ? "[" + target + "]" : target;
        String loops = open + "set " + kept + " = namespace(items=[]) %}"
                + "{% for " + target + " in " + items + " %}{% if " + condition + " %}"
                + "{% do " + kept + ".items.append(" + item + ") %}{% endif %}{% endfor %}"
                + "{% for " + target + " in " + kept + ".items " + closing;
        out.append(new Jinja2Source(loops).rewrite());
        pos = close + closing.length();
        return true;
    }

    /** Closes a group this class opened, right after its last non-blank character. */
    private void closeGroup() {
        int at = out.length();
        while (at > 0 && Character.isWhitespace(out.charAt(at - 1))) {
            at--;
        }
        out.insert(at, ')');
    }

    /** After a name inside a call: whether "=" (not "==") follows; if so copies it. */
    private boolean keywordArgument() {
        int i = pos;
        while (i < src.length() && src.charAt(i) == ' ') {
            i++;
        }
        if (i < src.length() && src.charAt(i) == '=' && (i + 1 >= src.length() || src.charAt(i + 1) != '=')) {
            copyUpTo(i + 1);
            return true;
        }
        return false;
    }

    private boolean nextWordIs(String word) {
        int i = pos;
        while (i < src.length() && Character.isWhitespace(src.charAt(i))) {
            i++;
        }
        return src.startsWith(word, i) && (i + word.length() >= src.length() || !isNamePart(src.charAt(i + word.length())));
    }

    /**
     * At a '[': when the brackets hold a slice with a step ({@code x[::-1]}, {@code x[1:5:2]}),
     * writes it as the filter {@code |step_slice(start, stop, step)} and returns true.
     */
    private boolean stepSlice() {
        int depth = 0;
        List<Integer> colons = new ArrayList<>();
        int i = pos + 1;
        for (; i < src.length(); i++) {
            char c = src.charAt(i);
            if (c == '\'' || c == '"') {
                i = tokenEnd(i) - 1;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                if (depth == 0) {
                    break;
                }
                depth--;
            } else if (c == ':' && depth == 0) {
                colons.add(i);
            }
        }
        if (i >= src.length() || src.charAt(i) != ']' || colons.size() != 2) {
            return false;
        }
        out.append("|step_slice(").append(orNone(src.substring(pos + 1, colons.get(0))))
                .append(", ").append(orNone(src.substring(colons.get(0) + 1, colons.get(1))))
                .append(", ").append(orNone(src.substring(colons.get(1) + 1, i))).append(')');
        pos = i + 1;
        return true;
    }

    private static String orNone(String bound) {
        return bound.isBlank() ? "none" : bound.strip();
    }

    /** End of the token at i: a string literal, a name or number, a run of whitespace, or one character. */
    private int tokenEnd(int i) {
        char c = src.charAt(i);
        int j = i + 1;
        if (c == '\'' || c == '"') {
            while (j < src.length() && src.charAt(j) != c) {
                j += src.charAt(j) == '\\' ? 2 : 1;
            }
            return Math.min(src.length(), j + 1);
        }
        if (isNamePart(c)) {
            while (j < src.length() && isNamePart(src.charAt(j))) {
                j++;
            }
        } else if (Character.isWhitespace(c)) {
            while (j < src.length() && Character.isWhitespace(src.charAt(j))) {
                j++;
            }
        }
        return j;
    }

    private static boolean isNamePart(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }

    private static boolean isName(String token) {
        return Character.isLetter(token.charAt(0)) || token.charAt(0) == '_';
    }

    /** A value ends here: a name, number, string or closing bracket (so a following "not" is "not in"). */
    private static boolean isOperand(String token) {
        if (token.isEmpty()) {
            return false;
        }
        char c = token.charAt(0);
        return isNamePart(c) || c == '\'' || c == '"' || c == ')' || c == ']' || c == '}';
    }

    private String firstWord(int from) {
        int i = from;
        while (i < src.length() && (src.charAt(i) == '-' || src.charAt(i) == '+' || Character.isWhitespace(src.charAt(i)))) {
            i++;
        }
        int start = i;
        while (i < src.length() && Character.isLetter(src.charAt(i))) {
            i++;
        }
        return src.substring(start, i);
    }

    private int closeOf(int from, String close) {
        int at = src.indexOf(close, from);
        return at < 0 ? src.length() : at + close.length();
    }

    private void copyUpTo(int end) {
        out.append(src, pos, end);
        pos = end;
    }
}
