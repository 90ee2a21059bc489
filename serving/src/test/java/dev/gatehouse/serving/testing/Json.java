package dev.gatehouse.serving.testing;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Tiny JSON writer that formats like Python's {@code json.dumps(obj, indent=2, sort_keys=...)}
 * (what transformers uses for config.json and friends): two-space indent, {@code ": "} between key
 * and value, floats in Python's repr ({@code 1e-06}, {@code 10000.0}). Compact mode writes no
 * whitespace at all (like the Rust writers of safetensors headers).
 */
final class Json {
    private Json() {}

    static String write(Object value, boolean pretty, boolean sortKeys) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, pretty, sortKeys, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, boolean pretty, boolean sort, int depth) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String s) {
            string(sb, s);
        } else if (v instanceof Boolean b) {
            sb.append(b);
        } else if (v instanceof Double || v instanceof Float) {
            sb.append(pythonFloat(((Number) v).doubleValue()));
        } else if (v instanceof Number n) {
            sb.append(n.longValue());
        } else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                sb.append("{}");
                return;
            }
            List<Object> keys = new ArrayList<>(m.keySet());
            if (sort) keys.sort((a, b) -> a.toString().compareTo(b.toString()));
            sb.append('{');
            boolean first = true;
            for (Object k : keys) {
                if (!first) sb.append(',');
                first = false;
                newline(sb, pretty, depth + 1);
                string(sb, k.toString());
                sb.append(pretty ? ": " : ":");
                write(sb, m.get(k), pretty, sort, depth + 1);
            }
            newline(sb, pretty, depth);
            sb.append('}');
        } else if (v instanceof Collection<?> c) {
            if (c.isEmpty()) {
                sb.append("[]");
                return;
            }
            sb.append('[');
            boolean first = true;
            for (Object e : c) {
                if (!first) sb.append(',');
                first = false;
                newline(sb, pretty, depth + 1);
                write(sb, e, pretty, sort, depth + 1);
            }
            newline(sb, pretty, depth);
            sb.append(']');
        } else if (v instanceof int[] a) {
            List<Integer> l = new ArrayList<>();
            for (int x : a) l.add(x);
            write(sb, l, pretty, sort, depth);
        } else {
            throw new IllegalArgumentException("cannot write " + v.getClass());
        }
    }

    private static void newline(StringBuilder sb, boolean pretty, int depth) {
        if (!pretty) return;
        sb.append('\n');
        sb.append("  ".repeat(depth));
    }

    private static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c > 0x7e) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    /** Python's float repr: shortest round-trip digits, exponent form below 1e-4 or from 1e16. */
    static String pythonFloat(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = bd.unscaledValue().abs().toString();
        int exp10 = digits.length() - 1 - bd.scale();
        String sign = d < 0 ? "-" : "";
        if (exp10 < -4 || exp10 >= 16) {
            String mant = digits.length() > 1 ? digits.charAt(0) + "." + digits.substring(1) : digits;
            return sign + mant + "e" + (exp10 < 0 ? "-" : "+") + String.format("%02d", Math.abs(exp10));
        }
        String plain = bd.abs().toPlainString();
        if (!plain.contains(".")) plain += ".0";
        return sign + plain;
    }
}
