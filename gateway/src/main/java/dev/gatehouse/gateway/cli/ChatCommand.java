package dev.gatehouse.gateway.cli;

import dev.gatehouse.gateway.hub.ModelPull;
import dev.gatehouse.serving.engine.LocalModel;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.text.ChatMessage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import sun.misc.Signal;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

/** {@code gatehouse chat MODEL}: an interactive chat in the terminal, as {@code ollama run} has. */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chat with a model in the terminal: the conversation is kept, answers stream as they are written.",
                "/reset forgets the conversation, /exit (or Ctrl-D) leaves, Ctrl-C stops the answer being written.",
                "Without --url the model is loaded here from the model store; with --url it is asked of a running server."})
public final class ChatCommand implements Callable<Integer> {
    static final String PROMPT = ">>> ";

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions models;

    @Parameters(index = "0", paramLabel = "MODEL",
            description = "Store name, model folder or Hub id ORG/NAME in the store; with --url, the server's model name.")
    String model;

    @Option(names = "--url", description = "A running OpenAI-compatible server, e.g. http://127.0.0.1:8080 (default: load the model here).")
    String url;

    @Option(names = "--api-key", defaultValue = "${env:OPENAI_API_KEY}",
            description = "Key for --url (default: $OPENAI_API_KEY).")
    String apiKey;

    @Option(names = "--system", description = "A system message that starts the conversation.")
    String system;

    @Option(names = "--max-tokens", defaultValue = "512", description = "Most tokens per answer (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0.7", description = "0 = greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (ChatReplies replies = url != null
                ? new RemoteChatReplies(url, model, apiKey, maxTokens, temperature)
                : new LocalChatReplies(LocalModel.load(localFolder(), models.device()),
                        SamplingParams.defaults().withMaxTokens(maxTokens).withTemperature(temperature).validate())) {
            converse(replies, new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), out);
        }
        return 0;
    }

    /** A store name or folder as {@code generate} takes it, or a Hub id pulled into the store as ORG--NAME. */
    private Path localFolder() {
        Path pulled = models.store.root().resolve(ModelPull.folderName(model, null));
        return model.contains("/") && !Files.isDirectory(Path.of(model)) && Files.isDirectory(pulled)
                ? pulled : models.store.resolve(model);
    }

    private void converse(ChatReplies replies, BufferedReader in, PrintWriter out) throws Exception {
        List<ChatMessage> history = new ArrayList<>();
        AtomicBoolean answering = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        // Ctrl-C stops the answer being written; at the prompt it says how to leave, as Ollama does
        Signal.handle(new Signal("INT"), signal -> {
            if (answering.get()) {
                stop.set(true);
            } else {
                out.print("\n(use /exit or Ctrl-D to leave)\n" + PROMPT);
                out.flush();
            }
        });
        out.println("chatting with " + model + (url != null ? " at " + url : "") + "; /reset forgets, /exit leaves,"
                + " Ctrl-C stops an answer");
        while (true) {
            out.print(PROMPT);
            out.flush();
            String line = in.readLine();
            if (line == null || line.strip().equals("/exit") || line.strip().equals("/bye")) {
                out.println();
                return;
            }
            String text = line.strip();
            if (text.isEmpty()) {
                continue;
            }
            if (text.equals("/reset")) {
                history.clear();
                out.println("(conversation forgotten)");
                continue;
            }
            if (text.startsWith("/")) {
                out.println("unknown command " + text + ": /reset forgets the conversation, /exit leaves");
                continue;
            }
            if (history.isEmpty() && system != null) {
                history.add(new ChatMessage("system", system));
            }
            history.add(new ChatMessage("user", text));
            stop.set(false);
            answering.set(true);
            try {
                String answer = replies.reply(history, delta -> {
                    out.print(delta);
                    out.flush();
                }, stop::get);
                history.add(new ChatMessage("assistant", answer));
                out.println();
            } catch (ChatReplies.Stopped e) {
                history.removeLast(); // a question without its answer is not kept
                out.println("\n(stopped)");
            } catch (RuntimeException e) {
                history.removeLast();
                out.println();
                spec.commandLine().getErr().println("error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
                spec.commandLine().getErr().flush();
            } finally {
                answering.set(false);
            }
        }
    }
}
