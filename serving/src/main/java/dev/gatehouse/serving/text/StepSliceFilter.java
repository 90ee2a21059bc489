package dev.gatehouse.serving.text;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code value[start:stop:step]} for lists and strings, which {@link Jinja2Source}
 * writes as {@code value|step_slice(start, stop, step)} (a none bound is left out). Qwen templates
 * walk the conversation backwards with {@code messages[::-1]}.
 */
final class StepSliceFilter implements Filter {

    @Override
    public String getName() {
        return "step_slice";
    }

    @Override
    public Object filter(Object value, JinjavaInterpreter interpreter, String... args) {
        throw new UnsupportedOperationException("called with objects");
    }

    @Override
    public Object filter(Object value, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
        Long start = number(args, 0);
        Long stop = number(args, 1);
        long step = number(args, 2) == null ? 1 : number(args, 2);
        if (step == 0) {
            throw new IllegalArgumentException("slice step cannot be zero");
        }
        if (value instanceof CharSequence text) {
            StringBuilder out = new StringBuilder();
            for (int i : indices(text.length(), start, stop, step)) {
                out.append(text.charAt(i));
            }
            return out.toString();
        }
        List<?> items = value instanceof Collection<?> c ? new ArrayList<>(c)
                : value instanceof Object[] array ? Arrays.asList(array) : List.of();
        List<Object> out = new ArrayList<>();
        for (int i : indices(items.size(), start, stop, step)) {
            out.add(items.get(i));
        }
        return out;
    }

    /** The indices Python's slice(start, stop, step).indices(length) walks. */
    private static List<Integer> indices(int length, Long start, Long stop, long step) {
        long lower = step > 0 ? 0 : -1;
        long upper = step > 0 ? length : length - 1;
        long from = start == null ? (step > 0 ? lower : upper) : clamp(start < 0 ? start + length : start, lower, upper);
        long to = stop == null ? (step > 0 ? upper : lower) : clamp(stop < 0 ? stop + length : stop, lower, upper);
        List<Integer> out = new ArrayList<>();
        for (long i = from; step > 0 ? i < to : i > to; i += step) {
            out.add((int) i);
        }
        return out;
    }

    private static long clamp(long v, long lower, long upper) {
        return Math.max(lower, Math.min(upper, v));
    }

    private static Long number(Object[] args, int i) {
        return i < args.length && args[i] instanceof Number n ? n.longValue() : null;
    }
}
