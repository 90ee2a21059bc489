package dev.gatehouse.serving.constrain;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What a constrained answer must look like, compiled from a JSON Schema ({@link SchemaCompiler}). A node
 * may refer to itself through a {@link Ref} (recursive schemas), so nodes compare by identity, never by
 * content: a parse state names the node it is in.
 */
public sealed interface Grammar {

    /** One declared property of an object: keys are written in declaration order; optional ones may be left out. */
    record Property(String name, Grammar value, boolean required) {}

    /**
     * A JSON object. With declared properties only those keys are written, in order; without any, keys are free
     * strings whose values follow {@code additional}.
     */
    final class Obj implements Grammar {
        final List<Property> properties;
        final Grammar additional;
        /** keyChoices[i]: the keys allowed when property i is next: i, and those after it up to the first required one. */
        final Literals[] keyChoices;

        Obj(List<Property> properties, Grammar additional) {
            this.properties = List.copyOf(properties);
            this.additional = additional;
            this.keyChoices = new Literals[this.properties.size()];
            for (int i = 0; i < keyChoices.length; i++) {
                List<byte[]> keys = new ArrayList<>();
                List<Integer> tags = new ArrayList<>();
                for (int j = i; j < this.properties.size(); j++) {
                    keys.add(JsonText.of(this.properties.get(j).name()).getBytes(StandardCharsets.UTF_8));
                    tags.add(j);
                    if (this.properties.get(j).required()) {
                        break;
                    }
                }
                keyChoices[i] = new Literals(keys, tags);
            }
        }

        boolean freeKeys() {
            return properties.isEmpty() && additional != null;
        }

        /** Whether the object may close when property {@code next} is the next to write. */
        boolean mayClose(int next) {
            for (int j = next; j < properties.size(); j++) {
                if (properties.get(j).required()) {
                    return false;
                }
            }
            return true;
        }
    }

    /** A JSON array of {@code items}; {@code max} -1 for no bound. */
    final class Arr implements Grammar {
        final Grammar items;
        final int min;
        final int max;

        Arr(Grammar items, int min, int max) {
            this.items = items;
            this.min = min;
            this.max = max;
        }
    }

    /** A JSON string of {@code min}..{@code max} characters (max -1: no bound), or in a {@link StringFormat}. */
    final class Str implements Grammar {
        final int min;
        final int max;
        final StringFormat format;

        Str(int min, int max, StringFormat format) {
            this.min = min;
            this.max = max;
            this.format = format;
        }
    }

    /** A JSON number (integer: no fraction or exponent), within [min, max] where given (null: no bound). */
    final class Num implements Grammar {
        final boolean integer;
        final BigDecimal min;
        final BigDecimal max;

        Num(boolean integer, BigDecimal min, BigDecimal max) {
            this.integer = integer;
            this.min = min;
            this.max = max;
        }
    }

    /**
     * One of a fixed set of byte strings (true/false/null, enum and const values as JSON text, object keys with
     * their quotes, the fixed text around a tool call), sorted so that those sharing a prefix form one range.
     * {@code tags[i]} says what {@code sorted[i]} stands for (a property index for keys).
     */
    final class Literals implements Grammar {
        final byte[][] sorted;
        final int[] tags;

        Literals(List<byte[]> values, List<Integer> tags) {
            Integer[] order = new Integer[values.size()];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> Arrays.compareUnsigned(values.get(a), values.get(b)));
            List<byte[]> sortedList = new ArrayList<>();
            List<Integer> sortedTags = new ArrayList<>();
            for (int i : order) {
                if (sortedList.isEmpty() || !Arrays.equals(sortedList.get(sortedList.size() - 1), values.get(i))) {
                    sortedList.add(values.get(i));
                    sortedTags.add(tags.get(i));
                }
            }
            this.sorted = sortedList.toArray(new byte[0][]);
            this.tags = sortedTags.stream().mapToInt(Integer::intValue).toArray();
        }

        static Literals of(String... texts) {
            List<byte[]> values = new ArrayList<>();
            List<Integer> tags = new ArrayList<>();
            for (String t : texts) {
                values.add(t.getBytes(StandardCharsets.UTF_8));
                tags.add(tags.size());
            }
            return new Literals(values, tags);
        }
    }

    /** Any of the options (anyOf, or a list of types). */
    final class AnyOf implements Grammar {
        final List<Grammar> options;

        AnyOf(List<Grammar> options) {
            this.options = List.copyOf(options);
        }
    }

    /** A $ref: its target is set once the whole schema is compiled, so a schema may refer to itself. */
    final class Ref implements Grammar {
        Grammar target;
    }

    /** Parts written one after the other with nothing between them (the text around a tool call's JSON). */
    final class Sequence implements Grammar {
        final List<Grammar> parts;

        Sequence(List<Grammar> parts) {
            this.parts = List.copyOf(parts);
        }
    }

    /** Any JSON value: what a {@code json_object} answer's values and a schema of {@code {}} allow. */
    Grammar ANY = any();

    /** Any JSON object ({@code response_format: json_object}). */
    Grammar ANY_OBJECT = new Obj(List.of(), ANY);

    private static Grammar any() {
        Ref self = new Ref();
        Grammar value = new AnyOf(List.of(new Obj(List.of(), self), new Arr(self, 0, -1), new Str(0, -1, null),
                new Num(false, null, null), Literals.of("true", "false", "null")));
        self.target = value;
        return value;
    }
}
