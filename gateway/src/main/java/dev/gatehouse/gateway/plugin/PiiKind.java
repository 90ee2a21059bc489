package dev.gatehouse.gateway.plugin;

import java.util.regex.Pattern;

/**
 * What the PII plugin recognises, most specific first: where two kinds match overlapping text the
 * earlier one here wins (a card number is not also a phone number).
 */
enum PiiKind {
    EMAIL("email", "[EMAIL]",
            "(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}"),

    /** 13 to 19 digits, single spaces or dashes between them allowed; {@link #valid} checks Luhn. */
    CARD("card", "[CARD]", Bounds.NOT_AFTER + "\\d(?:[ -]?\\d){12,18}" + Bounds.NOT_BEFORE),

    /**
     * International (+ and 8 to 15 digits) or national: 10 to 15 digits, contiguous or in groups
     * split by spaces or dashes, or US style 555.123.4567. Years, dates, prices and counts are too
     * short or have no such shape. The international groups are possessive: a number can only end
     * where a run of digits ends, so trying every other way to split a long run into groups (tens of
     * thousands of steps per '+' before a long digit run) cannot change the match.
     */
    PHONE("phone", "[PHONE]", Bounds.NOT_AFTER + "(?:"
            + "\\+\\d{1,3}+(?:[ -]?+(?:\\(\\d{1,5}\\)|\\d{1,5}+)){1,6}"
            + "|(?:\\(\\d{2,5}\\) ?|\\d{2,5}[ -])\\d{2,8}(?:[ -]\\d{2,8}){0,3}"
            + "|\\d{3}\\.\\d{3}\\.\\d{4}"
            + "|\\d{10,15}"
            + ")" + Bounds.NOT_BEFORE);

    final String setting;
    final String placeholder;
    final Pattern pattern;

    PiiKind(String setting, String placeholder, String regex) {
        this.setting = setting;
        this.placeholder = placeholder;
        this.pattern = Pattern.compile(regex);
    }

    /** The checks a pattern cannot make: card numbers pass Luhn, phone numbers have enough digits. */
    boolean valid(CharSequence match) {
        return switch (this) {
            case EMAIL -> true;
            case CARD -> luhn(match);
            case PHONE -> {
                int digits = digits(match).length();
                yield match.charAt(0) == '+' ? digits >= 8 && digits <= 15 : digits >= 10 && digits <= 15;
            }
        };
    }

    /**
     * The part of {@code text[start, end)} that really is this PII, as {start, end}, or null if none.
     * The card pattern is greedy, so a card next to more digits (an expiry date or a CVV after it, a
     * reference before it) matches too long and fails Luhn: then the shorter numbers that start and
     * end at a space or dash between digits are tried, longest first (the earliest of equal length).
     * A match holds at most 19 digits, so this is a bounded number of Luhn checks per match.
     */
    int[] validSpan(CharSequence text, int start, int end) {
        if (valid(text.subSequence(start, end))) {
            return new int[]{start, end};
        }
        if (this != CARD) {
            return null;
        }
        int[] at = new int[end - start]; // where each digit of the match is
        int[] digit = new int[end - start];
        int count = 0;
        for (int i = start; i < end; i++) {
            char ch = text.charAt(i);
            if (ch >= '0' && ch <= '9') {
                digit[count] = ch - '0';
                at[count++] = i;
            }
        }
        int[] best = null;
        for (int first = 0; first < count; first++) {
            if (first > 0 && !separatorBefore(text, at[first])) {
                continue;
            }
            for (int last = Math.min(count - 1, first + 18); last >= first + 12; last--) {
                int s = at[first];
                int e = at[last] + 1;
                if (best != null && e - s <= best[1] - best[0]) {
                    break; // only shorter ones left from this start
                }
                if ((e == end || separatorAt(text, e)) && luhn(digit, first, last + 1)) {
                    best = new int[]{s, e};
                    break;
                }
            }
        }
        return best;
    }

    /** A space or dash at {@code i} with a digit before it: a number may end at {@code i}. */
    private static boolean separatorAt(CharSequence text, int i) {
        return (text.charAt(i) == ' ' || text.charAt(i) == '-') && Character.isDigit(text.charAt(i - 1));
    }

    /** A digit at {@code i} after a space or dash: a number may start at {@code i}. */
    private static boolean separatorBefore(CharSequence text, int i) {
        return Character.isDigit(text.charAt(i)) && separatorAt(text, i - 1);
    }

    /** Where a number may start and end (a holder: enum constants cannot read the enum's own statics). */
    private static final class Bounds {
        /** Not inside a word or a bigger number: 1.5551234567, $1234567890123, x5551234567. */
        static final String NOT_AFTER = "(?<![\\w.,+$-])";
        /** Nor followed by more of one: 5551234567.5, 5551234567,000. */
        static final String NOT_BEFORE = "(?![\\w]|[.,]\\d)";
    }

    static PiiKind of(String setting) {
        for (PiiKind k : values()) {
            if (k.setting.equals(setting)) {
                return k;
            }
        }
        return null;
    }

    /** The Luhn checksum of the digits in {@code s} (13 to 19 of them), as card numbers carry. */
    static boolean luhn(CharSequence s) {
        int[] digits = digits(s).chars().map(c -> c - '0').toArray();
        return luhn(digits, 0, digits.length);
    }

    /** The Luhn checksum of {@code digits[from, to)}, which must be 13 to 19 digits. */
    private static boolean luhn(int[] digits, int from, int to) {
        if (to - from < 13 || to - from > 19) {
            return false;
        }
        int sum = 0;
        for (int i = 0; i < to - from; i++) {
            int d = digits[to - 1 - i];
            if (i % 2 == 1) {
                d *= 2;
                if (d > 9) {
                    d -= 9;
                }
            }
            sum += d;
        }
        return sum % 10 == 0;
    }

    private static String digits(CharSequence s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                b.append(s.charAt(i));
            }
        }
        return b.toString();
    }
}
