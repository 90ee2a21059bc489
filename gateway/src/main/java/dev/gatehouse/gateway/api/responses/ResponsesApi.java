package dev.gatehouse.gateway.api.responses;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.api.openai.OpenAiApi;
import dev.gatehouse.gateway.api.openai.OpenAiJson;
import dev.gatehouse.gateway.api.openai.SseWriter;
import dev.gatehouse.gateway.api.openai.WholeAnswer;
import dev.gatehouse.gateway.cache.CacheControl;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.connection.ClientConnection;
import dev.gatehouse.gateway.pipeline.Call;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.util.UUID;

/**
 * OpenAI's Responses API, stateless: POST /v1/responses decoded into the internal request, served by
 * the pipeline (keys, limits, budgets, cache, plugins, usage logged under /v1/responses, fallbacks) on
 * any backend, and encoded as a response object or its event stream. Authentication, body reading
 * and errors are OpenAI's, shared with {@link OpenAiApi}.
 */
public final class ResponsesApi implements HttpService {
    private final OpenAiApi openAi;

    public ResponsesApi(OpenAiApi openAi) {
        this.openAi = openAi;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/responses", (req, res) -> openAi.serve("/v1/responses", req, res,
                (json, call) -> respond(json, req, res, call)));
    }

    private static void respond(JsonNode body, ServerRequest req, ServerResponse res, Call call) throws InterruptedException {
        Call.Answer answer = call.chat(ResponsesRequests.decode(body),
                CacheControl.of(req.headers().values(HeaderNames.CACHE_CONTROL)));
        ResponseEncoder encoder = new ResponseEncoder("resp_" + UUID.randomUUID().toString().replace("-", ""),
                System.currentTimeMillis() / 1000, answer.request().model(), body);
        ClientConnection.limitWrites(req, res);
        if (answer.request().stream()) {
            stream(res, answer.stream(), encoder);
            return;
        }
        WholeAnswer.collect(req, res, answer, encoder::add);
        call.costHeader();
        WholeAnswer.send(res, encoder.response());
    }

    private static void stream(ServerResponse res, ChatStream stream, ResponseEncoder encoder) throws InterruptedException {
        try (stream) {
            ChatEvent first = stream.next(); // a refusal before the first token still gets a proper status
            res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
            res.header(HeaderNames.CACHE_CONTROL, "no-cache");
            try (var out = res.outputStream()) {
                SseWriter sse = new SseWriter(out);
                send(sse, encoder.start());
                try {
                    for (ChatEvent e = first; e != null; e = stream.next()) {
                        for (ResponseEncoder.Event event : encoder.events(e)) {
                            send(sse, event);
                        }
                    }
                    for (ResponseEncoder.Event event : encoder.end()) {
                        send(sse, event);
                    }
                } catch (ApiException e) { // headers are gone: the error travels as an error event
                    sse.event("error", OpenAiJson.bytes(error(e, encoder)));
                }
            } catch (IOException e) {
                throw new SseWriter.ClientGoneException(e);
            }
        }
    }

    private static void send(SseWriter sse, ResponseEncoder.Event event) {
        sse.event(event.name(), OpenAiJson.bytes(event.data()));
    }

    /** The stream's error event: {type: error, code, message, param, sequence_number}. */
    private static ObjectNode error(ApiException e, ResponseEncoder encoder) {
        ObjectNode n = encoder.errorEvent();
        n.put("code", e.code() != null ? e.code() : e.type());
        n.put("message", e.getMessage());
        n.put("param", e.param());
        return n;
    }
}
