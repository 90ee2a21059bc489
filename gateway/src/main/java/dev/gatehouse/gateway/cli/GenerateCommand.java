package dev.gatehouse.gateway.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.serving.engine.GenerationResult;
import dev.gatehouse.serving.engine.Generator;
import dev.gatehouse.serving.engine.DtypeChoice;
import dev.gatehouse.serving.engine.WeightsDtype;
import dev.gatehouse.serving.engine.LocalModel;
import dev.gatehouse.serving.engine.MemoryBudget;
import dev.gatehouse.serving.engine.MemoryEstimate;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.text.ChatMessage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code gatehouse generate}: one prompt through a local model, streamed to the terminal. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text from a local model (streams the text, then prints token counts and speed).")
public final class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions models;

    @Option(names = "--model", required = true, description = "Model folder, or the name of a folder in the model store.")
    String model;

    @Option(names = "--prompt", required = true, description = "The prompt text.")
    String prompt;

    @Option(names = "--chat", description = "Wrap the prompt as a user message in the model's chat template.")
    boolean chat;

    @Option(names = "--max-tokens", defaultValue = "128", description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "1.0", description = "0 = greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus sampling (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--top-k", defaultValue = "0", description = "0 = off (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--min-p", defaultValue = "0", description = "0 = off (default: ${DEFAULT-VALUE}).")
    float minP;

    @Option(names = "--repetition-penalty", defaultValue = "1.0", description = "1 = off (default: ${DEFAULT-VALUE}).")
    float repetitionPenalty;

    @Option(names = "--seed", description = "Same seed, same output.")
    Long seed;

    @Option(names = "--stop", description = "Stop string (repeatable); not included in the output.")
    List<String> stop;

    @Option(names = "--json", description = "Print one JSON object instead of streaming text.")
    boolean json;

    @Override
    public Integer call() {
        if (prompt.isEmpty() && !chat) { // with --chat the template still writes a prompt around it
            throw new IllegalArgumentException("--prompt is empty: give the text the model should continue");
        }
        SamplingParams params = SamplingParams.defaults().withMaxTokens(maxTokens).withTemperature(temperature)
                .withTopP(topP).withTopK(topK).withMinP(minP).withRepetitionPenalty(repetitionPenalty)
                .withSeed(seed).withStop(stop == null ? List.of() : stop).validate();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        MemoryBudget memory = models.memoryBudget();
        Path folder = models.store.resolve(model);
        if (models.device().onCpu() && Files.isDirectory(folder)) {
            // one sequence: the prompt (at most one token per character, plus the chat template's) and the reply
            long positions = (long) prompt.length() + maxTokens + (chat ? 256 : 8);
            memory.check(folder.getFileName().toString(),
                    MemoryEstimate.forOneSequence(folder, DtypeChoice.AUTO, WeightsDtype.AUTO, positions), 0,
                    "use a smaller model or a machine with more memory (--memory-limit-mb, if set, higher)");
        }
        try (LocalModel local = LocalModel.load(folder, models.device())) {
            int[] promptIds = chat
                    ? local.tokenizer().encode(local.chatTemplate().render(List.of(new ChatMessage("user", prompt)), true), false)
                    : local.encodePrompt(prompt);
            GenerationResult result = new Generator(local).generate(promptIds, params, (delta, token) -> {
                if (!json) {
                    out.print(delta);
                    out.flush();
                }
            });
            if (json) {
                out.println(toJson(result));
            } else {
                out.println();
                err.printf("prompt tokens: %d, generated tokens: %d (%s), prompt %.1f tokens/s, decode %.1f tokens/s%n",
                        result.promptTokenIds().length, result.tokenIds().length, result.finishReason().wireName(),
                        result.promptTokensPerSecond(), result.decodeTokensPerSecond());
            }
        }
        return 0;
    }

    private static String toJson(GenerationResult r) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode node = mapper.createObjectNode();
        node.put("text", r.text());
        node.putPOJO("token_ids", r.tokenIds());
        node.putPOJO("prompt_token_ids", r.promptTokenIds());
        node.put("finish_reason", r.finishReason().wireName());
        node.put("prompt_tokens", r.promptTokenIds().length);
        node.put("completion_tokens", r.tokenIds().length);
        node.put("prompt_tokens_per_second", r.promptTokensPerSecond());
        node.put("decode_tokens_per_second", r.decodeTokensPerSecond());
        try {
            return mapper.writeValueAsString(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
