package dev.gatehouse.serving.constrain;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * One model's constrained decoding: its vocabulary's token trie, built on first use, and the grammars
 * compiled for it, each schema compiled once and kept (the most recently used {@link #MAX_GRAMMARS}).
 * Thread-safe.
 */
public final class Constraints {
    static final int MAX_GRAMMARS = 64;

    private final Supplier<TokenTrie> trieSource;
    private TokenTrie trie; // guarded by this
    private final Map<String, CompiledGrammar> grammars = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, CompiledGrammar> eldest) {
            return size() > MAX_GRAMMARS;
        }
    };

    public Constraints(Supplier<TokenTrie> trieSource) {
        this.trieSource = trieSource;
    }

    /** For a model folder: the trie is built from its tokenizer.json on first use. */
    public static Constraints forTokenizer(Path tokenizerJson, Set<Integer> eosIds) {
        return new Constraints(() -> new TokenTrie(TokenVocabulary.load(tokenizerJson), eosIds));
    }

    /** Any JSON object ({@code response_format: json_object}). */
    public CompiledGrammar jsonObject() {
        return compiled("object", () -> Grammar.ANY_OBJECT);
    }

    /**
     * A document valid under {@code schema}.
     *
     * @throws UnsupportedSchemaException naming the keyword the schema uses that this cannot hold an answer to
     */
    public CompiledGrammar jsonSchema(JsonNode schema) {
        return compiled("schema " + schema, () -> SchemaCompiler.compile(schema));
    }

    /** A function a forced tool call may name: its name and its parameters' schema (null: any object). */
    public record Tool(String name, JsonNode parameters) {}

    /**
     * One tool call written as {@code prefix {"name": NAME, ARGUMENTS_KEY: {...}} suffix}, to one of
     * {@code tools}, with arguments valid under that tool's parameters.
     *
     * @throws UnsupportedSchemaException naming the keyword a tool's parameters use that this cannot hold an answer to
     */
    public CompiledGrammar toolCall(List<Tool> tools, String argumentsKey, String prefix, String suffix) {
        StringBuilder key = new StringBuilder("tool ").append(argumentsKey).append(' ').append(JsonText.of(prefix))
                .append(' ').append(JsonText.of(suffix));
        for (Tool t : tools) {
            key.append(' ').append(JsonText.of(t.name())).append(' ').append(t.parameters());
        }
        return compiled(key.toString(), () -> {
            List<Grammar> calls = new ArrayList<>();
            for (Tool t : tools) {
                Grammar arguments = t.parameters() == null ? Grammar.ANY_OBJECT : SchemaCompiler.compile(t.parameters());
                calls.add(new Grammar.Obj(List.of(
                        new Grammar.Property("name", Grammar.Literals.of(JsonText.of(t.name())), true),
                        new Grammar.Property(argumentsKey, arguments, true)), null));
            }
            Grammar call = calls.size() == 1 ? calls.get(0) : new Grammar.AnyOf(calls);
            List<Grammar> parts = new ArrayList<>();
            if (!prefix.isEmpty()) {
                parts.add(literal(prefix));
            }
            parts.add(call);
            if (!suffix.isEmpty()) {
                parts.add(literal(suffix));
            }
            return new Grammar.Sequence(parts);
        });
    }

    private static Grammar.Literals literal(String text) {
        return new Grammar.Literals(List.of(text.getBytes(StandardCharsets.UTF_8)), List.of(0));
    }

    private CompiledGrammar compiled(String key, Supplier<Grammar> compile) {
        synchronized (this) {
            CompiledGrammar g = grammars.get(key);
            if (g != null) {
                return g;
            }
        }
        Grammar grammar = compile.get(); // outside the lock: a bad schema throws, a big one takes its time
        synchronized (this) {
            if (trie == null) {
                trie = trieSource.get();
            }
            return grammars.computeIfAbsent(key, k -> new CompiledGrammar(grammar, trie));
        }
    }
}
