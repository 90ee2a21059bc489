package dev.gatehouse.serving.text;

/** Python's notion of whitespace and str.strip, which templates' trim and strip() follow. */
final class PythonStrings {

    private PythonStrings() {}

    /** Python's str.isspace() for one character (Unicode White_Space plus the four separators \x1c-\x1f). */
    static boolean isSpace(char c) {
        return (c >= '\t' && c <= '\r') || (c >= '\u001c' && c <= ' ') || c == '\u0085' || c == '\u00a0'
                || c == '\u1680' || (c >= '\u2000' && c <= '\u200a') || c == '\u2028' || c == '\u2029'
                || c == '\u202f' || c == '\u205f' || c == '\u3000';
    }

    /** str.strip(chars): no chars strips whitespace; otherwise chars is a set of characters. */
    static String strip(String s, String chars) {
        return stripRight(stripLeft(s, chars), chars);
    }

    static String stripLeft(String s, String chars) {
        int start = 0;
        while (start < s.length() && strippable(s.charAt(start), chars)) {
            start++;
        }
        return s.substring(start);
    }

    static String stripRight(String s, String chars) {
        int end = s.length();
        while (end > 0 && strippable(s.charAt(end - 1), chars)) {
            end--;
        }
        return s.substring(0, end);
    }

    private static boolean strippable(char c, String chars) {
        return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
    }
}
