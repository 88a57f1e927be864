package dev.gearbox.schedule;

import dev.gearbox.backend.cuda.CudaRuntime;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.TestLadders;
import dev.gearbox.router.Router;
import dev.gearbox.sample.SamplingParams;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Continuous batching on a CUDA tier with two lanes (two CUDA streams), where each batched step's
 * tokens are chosen on the device: greedy answers equal the same model's answers on a CPU tier.
 * Skipped where no CUDA device is found.
 */
@Tag("gpu")
class CudaSchedulerGpuTest {

    @Test
    void batchedRequestsOnACudaTierAnswerAsOnTheCpu(@TempDir Path dir) throws Exception {
        assumeTrue(CudaRuntime.available(), () -> "skipped: " + CudaRuntime.unavailableReason());
        TestLadders.model(dir, "g.gguf", 128, 2, 9); // F32 weights: no near-tie flips a greedy pick between devices
        Path yaml = TestLadders.write(dir.resolve("ladder.yaml"), """
                name: gpu-test
                gatekeeper: {model: g.gguf}
                max_answer_tokens: 16
                tiers:
                  - {name: host, model: g.gguf, context: 128, backend: cpu, streams: 1, max_sequences: 4}
                  - {name: gpu, model: g.gguf, context: 128, backend: cuda, streams: 2, max_sequences: 4}
                """);
        List<String> prompts = List.of("12+34=", "hello", "a longer prompt than the others", "x", "9*9=", "sort: dcba");
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(16).build();
        try (Ladder ladder = Ladder.open(yaml);
             Scheduler s = Scheduler.open(ladder, Router.zeroShot(ladder), Scheduler.Options.defaults().withPrefillChunk(8))) {
            assertThat(ladder.tier("gpu").model().backend().choosesOnDevice()).isTrue();
            List<RequestHandle> host = new ArrayList<>(), gpu = new ArrayList<>();
            for (String p : prompts) {
                host.add(s.submit(Request.of("host", p, greedy)));
                gpu.add(s.submit(Request.of("gpu", p, greedy)));
            }
            for (int i = 0; i < prompts.size(); i++) {
                Result h = host.get(i).future().get(60, TimeUnit.SECONDS), g = gpu.get(i).future().get(60, TimeUnit.SECONDS);
                assertThat(g.tokens()).as(prompts.get(i)).isEqualTo(h.tokens());
                assertThat(g.tier()).isEqualTo("gpu");
            }
        }
    }
}
