package dev.gearbox.batch;

import dev.gearbox.sample.SamplingParams;
import dev.gearbox.template.Conversation;

/**
 * One valid line of a batch input file.
 *
 * @param line      1-based line number in the input
 * @param customId  the caller's id, echoed in the output
 * @param chat      {@code /v1/chat/completions} (true) or {@code /v1/completions}
 * @param model     {@code auto}, a tier name or {@code ensemble}
 * @param chat      the conversation (chat only): each tier renders it with its chat template
 * @param prompt    completion prompt text, or for chat the contents joined by newlines
 * @param promptIds completion prompt given as token ids, else null
 * @param sampling  OpenAI's parameters mapped to ours
 */
record BatchItem(int line, String customId, boolean chat, String model, Conversation conversation, String prompt,
                 int[] promptIds, SamplingParams sampling) {}
