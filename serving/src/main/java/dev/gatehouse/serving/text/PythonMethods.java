package dev.gatehouse.serving.text;

import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Python's str methods (and dict.get with a default, and indexing a string) for chat templates.
 * Jinjava calls Java methods on values, so {@code content.startswith('x')} or {@code role.upper()}
 * would fail, while HF templates use them. Everything else falls through to jinjava's own resolver.
 */
final class PythonMethods extends ELResolver {

    private static final Object NOT_HANDLED = new Object();

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] types, Object[] params) {
        Object[] args = params == null ? new Object[0] : params;
        Object result = NOT_HANDLED;
        if (base instanceof CharSequence text && method != null) {
            result = stringMethod(text.toString(), method.toString(), args);
        } else if (base instanceof Map<?, ?> map && "get".equals(method) && args.length == 2) {
            result = map.containsKey(String.valueOf(args[0])) ? map.get(String.valueOf(args[0])) : args[1];
        }
        if (result == NOT_HANDLED) {
            return null;
        }
        context.setPropertyResolved(true);
        return result;
    }

    private static Object stringMethod(String s, String method, Object[] args) {
        String arg0 = args.length > 0 && args[0] != null ? args[0].toString() : null;
        return switch (method) {
            case "startswith" -> anyOf(args, s::startsWith);
            case "endswith" -> anyOf(args, s::endsWith);
            case "strip" -> PythonStrings.strip(s, arg0);
            case "lstrip" -> PythonStrings.stripLeft(s, arg0);
            case "rstrip" -> PythonStrings.stripRight(s, arg0);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "capitalize" -> s.isEmpty() ? s
                    : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            case "title" -> title(s);
            case "split" -> split(s, arg0, args.length > 1 ? Integer.parseInt(args[1].toString()) : -1);
            case "replace" -> args.length == 2 ? s.replace(arg0, String.valueOf(args[1])) : NOT_HANDLED;
            case "find" -> args.length == 1 ? s.indexOf(arg0) : NOT_HANDLED;
            default -> NOT_HANDLED;
        };
    }

    /** startswith/endswith take a string or a tuple of strings. */
    private static boolean anyOf(Object[] args, Predicate<String> test) {
        if (args.length == 0 || args[0] == null) {
            return false;
        }
        Collection<?> options = args[0] instanceof Collection<?> c ? c : List.of(args[0]);
        return options.stream().anyMatch(o -> test.test(String.valueOf(o)));
    }

    private static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean previousIsLetter = false;
        for (char c : s.toCharArray()) {
            out.append(previousIsLetter ? Character.toLowerCase(c) : Character.toUpperCase(c));
            previousIsLetter = Character.isLetter(c);
        }
        return out.toString();
    }

    /** Python split: no separator splits on runs of whitespace and drops empty ends; a separator splits literally. */
    private static List<String> split(String s, String sep, int maxSplit) {
        if (sep == null) {
            String text = PythonStrings.stripLeft(s, null);
            List<String> parts = new ArrayList<>(Arrays.asList(text.split("\\s+", maxSplit < 0 ? 0 : maxSplit + 1)));
            parts.removeIf(String::isEmpty); // Python never returns empty parts here
            return parts;
        }
        List<String> parts = new ArrayList<>();
        int from = 0;
        int at;
        while ((maxSplit < 0 || parts.size() < maxSplit) && !sep.isEmpty() && (at = s.indexOf(sep, from)) >= 0) {
            parts.add(s.substring(from, at));
            from = at + sep.length();
        }
        parts.add(s.substring(from));
        return parts;
    }

    /**
     * {@code text[i]}, negative i counting from the end as in Python (jinjava hands the index over
     * as a string); other property access is jinjava's.
     */
    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        if (base instanceof CharSequence text && property != null && property.toString().matches("-?\\d{1,9}")) {
            long n = Long.parseLong(property.toString());
            long i = n < 0 ? n + text.length() : n;
            context.setPropertyResolved(true);
            return i >= 0 && i < text.length() ? String.valueOf(text.charAt((int) i)) : null;
        }
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {}

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
