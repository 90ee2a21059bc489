package dev.gatehouse.serving.constrain;

import java.math.BigDecimal;

/**
 * The text of a JSON number as it is written, one character at a time: whether it is still a possible
 * start of a number of the schema (syntax, a bound on digits, and a value that can still land within the
 * schema's minimum and maximum), and whether it is a whole one.
 */
final class NumberText {
    /** Digits allowed before the point, after it, and in an exponent: no model can write digits forever. */
    static final int MAX_INT_DIGITS = 15;
    static final int MAX_FRACTION_DIGITS = 15;
    static final int MAX_EXPONENT_DIGITS = 2;

    private NumberText() {}

    /** Whether {@code text} may grow into a number {@code node} allows. */
    static boolean mayStart(String text, Grammar.Num node) {
        Parts p = Parts.of(text, node);
        if (p == null) {
            return false;
        }
        if (node.min == null && node.max == null) {
            return true;
        }
        return p.exponent == null && reachable(p, node);
    }

    /** Whether {@code text} is a whole number {@code node} allows. */
    static boolean complete(String text, Grammar.Num node) {
        Parts p = Parts.of(text, node);
        if (p == null || p.intDigits.isEmpty() || (p.point && p.fraction.isEmpty())
                || (p.exponent != null && (p.exponent.isEmpty() || p.exponent.equals("+") || p.exponent.equals("-")))) {
            return false;
        }
        BigDecimal v = new BigDecimal(text);
        return (node.min == null || v.compareTo(node.min) >= 0) && (node.max == null || v.compareTo(node.max) <= 0);
    }

    /** A number split into its parts; null when the text cannot start a number of the node. */
    private record Parts(boolean negative, String intDigits, boolean point, String fraction, String exponent) {
        static Parts of(String text, Grammar.Num node) {
            int i = 0;
            boolean negative = text.startsWith("-");
            if (negative) {
                i++;
            }
            int intStart = i;
            while (i < text.length() && isDigit(text.charAt(i))) {
                i++;
            }
            String intDigits = text.substring(intStart, i);
            if (intDigits.length() > MAX_INT_DIGITS || (intDigits.length() > 1 && intDigits.charAt(0) == '0')) {
                return null;
            }
            boolean point = false;
            String fraction = "";
            if (i < text.length() && text.charAt(i) == '.') {
                if (node.integer || intDigits.isEmpty()) {
                    return null;
                }
                point = true;
                int start = ++i;
                while (i < text.length() && isDigit(text.charAt(i))) {
                    i++;
                }
                fraction = text.substring(start, i);
                if (fraction.length() > MAX_FRACTION_DIGITS) {
                    return null;
                }
            }
            String exponent = null;
            if (i < text.length() && (text.charAt(i) == 'e' || text.charAt(i) == 'E')) {
                if (node.integer || intDigits.isEmpty() || (point && fraction.isEmpty())) {
                    return null;
                }
                int start = ++i;
                if (i < text.length() && (text.charAt(i) == '+' || text.charAt(i) == '-')) {
                    i++;
                }
                int digits = i;
                while (i < text.length() && isDigit(text.charAt(i))) {
                    i++;
                }
                if (i - digits > MAX_EXPONENT_DIGITS) {
                    return null;
                }
                exponent = text.substring(start, i);
            }
            return i == text.length() ? new Parts(negative, intDigits, point, fraction, exponent) : null;
        }
    }

    /**
     * Whether some completion of {@code p} (no exponent) lies in [min, max]. Completions of integer digits D
     * fill [D * 10^k, (D + 1) * 10^k) for each count k of digits still to come (for integers the integers in
     * it); after the point, [D.F, D.F + 10^-|F|). Negative numbers mirror that.
     */
    private static boolean reachable(Parts p, Grammar.Num node) {
        if (p.intDigits.isEmpty()) { // "-" alone: any negative number, or -0
            return meets(true, BigDecimal.ZERO, BigDecimal.ONE.movePointRight(MAX_INT_DIGITS), false, node);
        }
        if (p.point || p.intDigits.equals("0")) {
            BigDecimal low = new BigDecimal(p.intDigits + "." + (p.fraction.isEmpty() ? "0" : p.fraction));
            if (node.integer || (p.point && p.fraction.length() == MAX_FRACTION_DIGITS)) {
                return meets(p.negative, low, low, false, node); // nothing more can change its value
            }
            BigDecimal width = p.point ? BigDecimal.ONE.movePointLeft(p.fraction.length()) : BigDecimal.ONE;
            return meets(p.negative, low, low.add(width), true, node);
        }
        BigDecimal d = new BigDecimal(p.intDigits);
        for (int k = 0; p.intDigits.length() + k <= MAX_INT_DIGITS; k++) {
            BigDecimal low = d.movePointRight(k);
            BigDecimal high = d.add(BigDecimal.ONE).movePointRight(k);
            if (node.integer ? meets(p.negative, low, high.subtract(BigDecimal.ONE), false, node)
                    : meets(p.negative, low, high, true, node)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether [low, high] ([low, high) when {@code openTop}), or its mirror below zero when negative, meets
     * [min, max].
     */
    private static boolean meets(boolean negative, BigDecimal low, BigDecimal high, boolean openTop, Grammar.Num node) {
        if (!negative) {
            return (node.max == null || low.compareTo(node.max) <= 0)
                    && (node.min == null || (openTop ? high.compareTo(node.min) > 0 : high.compareTo(node.min) >= 0));
        }
        BigDecimal top = low.negate();
        BigDecimal bottom = high.negate();
        return (node.min == null || top.compareTo(node.min) >= 0)
                && (node.max == null || (openTop ? bottom.compareTo(node.max) < 0 : bottom.compareTo(node.max) <= 0));
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
