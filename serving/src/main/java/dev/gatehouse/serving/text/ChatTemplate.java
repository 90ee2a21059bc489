package dev.gatehouse.serving.text;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.CollectionTooBigException;
import com.hubspot.jinjava.interpret.OutputTooBigException;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import jinjava.javax.el.CompositeELResolver;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns chat messages into a model's prompt text with the model's Jinja chat template, as
 * transformers' {@code apply_chat_template(messages, tokenize=False, add_generation_prompt=...)}
 * does.
 *
 * <p>The template sees {@code messages}, {@code add_generation_prompt}, {@code bos_token},
 * {@code eos_token}, {@code pad_token}, {@code tools} and {@code documents} (none unless given),
 * the caller's further variables (a request's chat_template_kwargs), and the functions
 * {@code raise_exception(msg)} and {@code strftime_now(format)}. Message content is data, never
 * template code. It is rendered with trim_blocks and lstrip_blocks on, one
 * trailing newline of the template dropped (Jinja2's keep_trailing_newline=False), Python's
 * {@code tojson} spacing, and Python's str methods ({@code startswith}, {@code strip}, ...).
 *
 * <p><b>Fallback.</b> When the model has no template, messages are written one per line as
 * {@code Role: content} with the role capitalized, and the generation prompt is
 * {@code Assistant:}. The bos token goes first only if tokenizer_config says
 * {@code add_bos_token: true}. For example:
 *
 * <pre>
 * System: You are terse.
 * User: Hi
 * Assistant:</pre>
 *
 * <p>The rendered prompt already holds the special tokens the template writes (for example the
 * bos token), so encode it with {@code Tokenizer.encode(prompt, false)}.
 *
 * <p>Thread-safe.
 */
public final class ChatTemplate {

    /** Used when the model has no chat template; see the class comment. */
    static final String FALLBACK_TEMPLATE =
            "{% for message in messages %}{{ message['role'] | capitalize }}: {{ message['content'] }}\n"
                    + "{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}";

    /**
     * Jinjava's switches towards Jinja2 semantics (upstream's "3.0" set): {{- ... }} trims like
     * Jinja2, operator precedence, dict and loop behaviour. Not LegacyOverrides.ALL: in 2.7.4 it
     * also requires a space after "{{", and real templates write {{'...'}}.
     */
    private static final LegacyOverrides JINJA2_BEHAVIOUR = LegacyOverrides.newBuilder()
            .withEvaluateMapKeys(true)
            .withIterateOverMapKeys(true)
            .withUsePyishObjectMapper(true)
            .withUseSnakeCasePropertyNaming(true)
            .withUseNaturalOperatorPrecedence(true)
            .withParseWhitespaceControlStrictly(true)
            .withAllowAdjacentTextNodes(true)
            .withUseTrimmingForNotesAndExpressions(true)
            .withKeepNullableLoopValues(true)
            .build();

    /**
     * Most characters a render may write, and the longest string or list it may build: several
     * times the largest request body, far past any local model's context, yet small enough that a
     * template looping over a large conversation cannot fill the heap.
     */
    static final int MAX_OUTPUT_CHARS = 8 << 20;
    static final int MAX_COLLECTION_SIZE = 1 << 20;
    /**
     * Most CPU time a render may use; real templates take milliseconds even for long
     * conversations. CPU time of the rendering thread, not wall time, so a loaded machine does not
     * fail a render that merely waited for a core.
     */
    static final Duration MAX_RENDER_TIME = Duration.ofSeconds(2);
    /** Nodes rendered between two looks at the clock (reading a thread's CPU time costs a system call). */
    private static final int NODES_PER_CLOCK_CHECK = 64;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private static final Jinjava ENGINE = createEngine();

    private final String name;
    private final String template;
    private final Map<String, Object> specialTokens;

    private ChatTemplate(String name, String template, Map<String, Object> specialTokens) {
        this.name = name;
        this.template = Jinja2Source.of(template);
        this.specialTokens = specialTokens;
    }

    /**
     * The model's template with its special tokens, or the plain fallback when it has none.
     *
     * @param model the model's name, for error messages
     */
    public static ChatTemplate of(String model, TokenizerConfig cfg) {
        Map<String, Object> tokens = new HashMap<>();
        tokens.put("bos_token", cfg.bosToken());
        tokens.put("eos_token", cfg.eosToken());
        tokens.put("pad_token", cfg.padToken());
        String template = cfg.chatTemplate();
        if (template == null || template.isBlank()) {
            boolean bos = Boolean.TRUE.equals(cfg.addBosToken()) && cfg.bosToken() != null;
            template = (bos ? "{{ bos_token }}" : "") + FALLBACK_TEMPLATE;
        }
        return new ChatTemplate("the chat template of model '" + model + "'", template, tokens);
    }

    /** Renders role-and-content messages; see {@link #render(List, boolean, Map)}. */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages.stream().map(ChatTemplate::asMap).toList(), addGenerationPrompt, Map.of());
    }

    /**
     * Renders a conversation to prompt text, as transformers'
     * {@code apply_chat_template(messages, tools=..., add_generation_prompt=..., **kwargs)} does.
     * Messages and variables are plain data, as JSON would give them: strings, numbers, booleans,
     * null, lists and maps (keep maps ordered, e.g. LinkedHashMap: tojson writes keys in order).
     *
     * <p>Message content is data: it reaches the template as a value and is never read as
     * template code, whatever it holds. The template cannot include or import files, and a render
     * that writes more than {@link #MAX_OUTPUT_CHARS}, builds a larger string or list, or runs past
     * {@link #MAX_RENDER_TIME} stops with an error naming this template.
     *
     * @param messages one map per message as the OpenAI API has it: {@code role}, {@code content},
     *     and where present {@code tool_calls} (each {@code {"id", "type": "function", "function":
     *     {"name", "arguments"}}}), {@code tool_call_id}, {@code name}, {@code reasoning_content}
     * @param addGenerationPrompt end with the header that opens the assistant's reply
     * @param variables further template variables: {@code tools} (the request's tool definitions,
     *     {@code {"type": "function", "function": {...}}}), {@code documents}, and the request's
     *     {@code chat_template_kwargs} such as {@code enable_thinking}
     * @throws IllegalArgumentException when the template calls raise_exception (with its message,
     *     for example a role order the model does not accept), exceeds a limit or cannot be rendered
     */
    public String render(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt, Map<String, ?> variables) {
        Map<String, Object> vars = new HashMap<>(specialTokens);
        vars.put("tools", null);
        vars.put("documents", null);
        vars.putAll(variables);
        vars.put("messages", messages);
        vars.put("add_generation_prompt", addGenerationPrompt);
        // Templates test "strftime_now is defined" before calling it; a call still reaches the function.
        TemplateFunctions.NAMES.forEach(name -> vars.put(name, name));
        RenderResult result;
        try {
            result = ENGINE.renderForResult(template, vars, withDeadline(cpuNanos() + MAX_RENDER_TIME.toNanos()));
        } catch (OutputTooBigException | CollectionTooBigException | TooSlow e) {
            throw tooBig(e);
        }
        List<TemplateError> fatal = result.getErrors().stream()
                .filter(error -> error.getSeverity() == TemplateError.ErrorType.FATAL)
                .toList();
        if (!fatal.isEmpty()) {
            throw failure(fatal);
        }
        return result.getOutput();
    }

    private static Map<String, Object> asMap(ChatMessage message) {
        Map<String, Object> map = new LinkedHashMap<>(); // role first, as in Python's dict
        map.put("role", message.role());
        map.put("content", message.content());
        return map;
    }

    /** raise_exception's message as is (jinjava goes on after it); a limit; else the first error with its line. */
    private IllegalArgumentException failure(List<TemplateError> errors) {
        for (TemplateError error : errors) {
            for (Throwable t = error.getException(); t != null; t = t.getCause()) {
                if (t instanceof TemplateFunctions.Raised raised) {
                    return new IllegalArgumentException(raised.getMessage());
                }
                if (t instanceof OutputTooBigException || t instanceof CollectionTooBigException || t instanceof TooSlow) {
                    return tooBig(t);
                }
            }
        }
        TemplateError first = errors.get(0);
        return new IllegalArgumentException(
                "chat template error at line " + first.getLineno() + ": " + first.getMessage(), first.getException());
    }

    private IllegalArgumentException tooBig(Throwable limit) {
        String what = limit instanceof TooSlow
                ? "used more than " + MAX_RENDER_TIME.toSeconds() + " s of CPU time"
                : "built more than " + MAX_OUTPUT_CHARS + " characters or " + MAX_COLLECTION_SIZE + " list or map entries";
        return new IllegalArgumentException(
                "Rendering this conversation with " + name + " " + what + "; shorten the conversation.");
    }

    /** Thrown between two template nodes once a render is past its deadline. */
    private static final class TooSlow extends RuntimeException {
        TooSlow() {
            super(null, null, false, false);
        }
    }

    /**
     * The rules of every render. Nested interpretation off: jinjava would otherwise render any
     * output that looks like a template again, so "{{ 7*7 }}" in a message would reach the model
     * as "49".
     */
    private static JinjavaConfig.Builder config() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        return JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withLegacyOverrides(JINJA2_BEHAVIOUR)
                .withElResolver(resolver)
                .withInterperterFactory(PythonInterpreter.FACTORY)
                .withNestedInterpretationEnabled(false)
                .withMaxOutputSize(MAX_OUTPUT_CHARS)
                .withMaxStringLength(MAX_OUTPUT_CHARS)
                .withMaxListSize(MAX_COLLECTION_SIZE)
                .withMaxMapSize(MAX_COLLECTION_SIZE);
    }

    /** One render's rules: the deadline (in {@link #cpuNanos()}) is checked between template nodes. */
    private static JinjavaConfig withDeadline(long deadlineNanos) {
        int[] nodes = {0};
        return config()
                .withNodePreProcessor((node, interpreter) -> {
                    if (++nodes[0] % NODES_PER_CLOCK_CHECK == 0 && cpuNanos() - deadlineNanos > 0) {
                        throw new TooSlow();
                    }
                })
                .build();
    }

    /** This thread's CPU time, or wall time where the JVM cannot measure CPU time. */
    private static long cpuNanos() {
        long cpu = THREADS.isCurrentThreadCpuTimeSupported() ? THREADS.getCurrentThreadCpuTime() : -1;
        return cpu >= 0 ? cpu : System.nanoTime();
    }

    private static Jinjava createEngine() {
        Jinjava engine = new Jinjava(config().build());
        // No template reads a file: {% include %}, {% import %} and {% extends %} find nothing.
        engine.setResourceLocator((path, charset, interpreter) -> {
            throw new IOException("chat templates cannot read files");
        });
        TemplateFunctions.definitions().forEach(engine.getGlobalContext()::registerFunction);
        engine.getGlobalContext().registerFilter(new PythonJsonFilter());
        engine.getGlobalContext().registerFilter(new PythonTrimFilter());
        engine.getGlobalContext().registerFilter(new StepSliceFilter());
        engine.getGlobalContext().registerExpTest(new PythonIsIterable());
        return engine;
    }
}
