// The UI's state and what the user can do with it: conversations from the
// chat store, the visible branch, and a streamed answer in progress.
import { chatStream, countTokens, listModels, store } from './api';
import { buildMessages, chatRequestBody, titleFrom, userContent } from './prompt';
import { ThinkSplitter } from './reasoning';
import { effectiveLeaf, newestLeaf, pathTo, siblings } from './tree';
import type { Attachment, ChatSettings, Conversation, ConversationWithMessages, Message, MessageMeta, ModelInfo } from './types';
import { DEFAULT_SETTINGS } from './types';
import { errorText, isAbort } from './util';

// An answer being streamed: a new message under `parentId`, or more text for
// the existing message `continueId`.
export interface Streaming {
  parentId: string;
  continueId: string | null;
  content: string;
  reasoning: string;
  inReasoning: boolean;
  reasoningSeconds: number | null;
  controller: AbortController;
}

// One row of the visible conversation.
export interface MessageView {
  message: Message;
  streaming: boolean;
  inReasoning: boolean;
  versions: Message[];
}

export interface TokenCheck {
  count: number;
  max: number;
  fits: boolean;
}

function now(): number {
  return performance.now();
}

export class ChatState {
  conversations = $state<Conversation[]>([]);
  query = $state('');
  current = $state<ConversationWithMessages | null>(null);
  draftSettings = $state<ChatSettings>({ ...DEFAULT_SETTINGS });
  defaults = $state<ChatSettings>({});
  models = $state<ModelInfo[]>([]);
  streaming = $state<Streaming | null>(null);
  error = $state('');
  loading = $state(false);

  settings: ChatSettings = $derived(this.current ? { ...DEFAULT_SETTINGS, ...this.current.settings } : this.draftSettings);
  model: string = $derived(this.settings.model && this.models.some((m) => m.id === this.settings.model) ? this.settings.model : (this.models[0]?.id ?? ''));
  maxModelLen: number = $derived(this.models.find((m) => m.id === this.model)?.max_model_len ?? 0);

  leaf: string | null = $derived(this.current ? effectiveLeaf(this.current.messages, this.current.current_leaf) : null);
  path: Message[] = $derived(this.current ? pathTo(this.current.messages, this.leaf) : []);

  views: MessageView[] = $derived.by(() => {
    const all = this.current?.messages ?? [];
    const s = this.streaming;
    const rows: MessageView[] = this.path
      .filter((m) => m.role !== 'system')
      .map((m) => {
        const cont = s && s.continueId === m.id;
        const message = cont ? { ...m, content: m.content + s.content, reasoning: (m.reasoning ?? '') + s.reasoning || null } : m;
        return { message, streaming: !!cont, inReasoning: !!cont && s.inReasoning, versions: siblings(all, m) };
      });
    if (s && !s.continueId) {
      rows.push({
        message: {
          id: '',
          conversation_id: this.current?.id ?? '',
          parent_id: s.parentId,
          role: 'assistant',
          content: s.content,
          reasoning: s.reasoning || null,
          attachments: [],
          meta: { reasoning_seconds: s.reasoningSeconds ?? undefined },
          created_at: Date.now(),
        },
        streaming: true,
        inReasoning: s.inReasoning,
        versions: [],
      });
    }
    return rows;
  });

  async init(): Promise<void> {
    const results = await Promise.allSettled([
      listModels().then((m) => (this.models = m)),
      store.getSettings().then((s) => {
        this.defaults = s ?? {};
        this.draftSettings = { ...DEFAULT_SETTINGS, ...this.defaults };
      }),
      this.refreshList(),
    ]);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) this.error = errorText(failed.reason);
  }

  async refreshList(): Promise<void> {
    this.conversations = await store.list(this.query.trim());
  }

  async search(q: string): Promise<void> {
    this.query = q;
    try {
      await this.refreshList();
    } catch (e) {
      this.error = errorText(e);
    }
  }

  newChat(): void {
    this.stop();
    this.current = null;
    this.draftSettings = { ...DEFAULT_SETTINGS, ...this.defaults };
    this.error = '';
  }

  async open(id: string): Promise<boolean> {
    if (this.current?.id === id) return true;
    this.stop();
    this.loading = true;
    try {
      this.current = await store.get(id);
      this.error = '';
      return true;
    } catch (e) {
      this.error = errorText(e);
      return false;
    } finally {
      this.loading = false;
    }
  }

  async rename(id: string, title: string): Promise<void> {
    const t = title.trim();
    if (!t) return;
    const c = await store.patch(id, { title: t });
    if (this.current?.id === id) this.current.title = c.title;
    await this.refreshList();
  }

  async remove(id: string): Promise<void> {
    await store.remove(id);
    if (this.current?.id === id) {
      this.newChat();
      history.replaceState(null, '', '/');
    }
    await this.refreshList();
  }

  async updateSettings(s: ChatSettings): Promise<void> {
    if (!this.current) {
      this.draftSettings = { ...s };
      return;
    }
    const c = await store.patch(this.current.id, { settings: s });
    this.current.settings = c.settings;
  }

  async saveDefaults(s: ChatSettings): Promise<void> {
    const { model: _model, ...rest } = s;
    this.defaults = await store.putSettings(rest);
  }

  async setModel(id: string): Promise<void> {
    await this.updateSettings({ ...this.settings, model: id });
  }

  // Shows another version of a message (and the newest branch below it).
  async showVersion(m: Message): Promise<void> {
    if (!this.current || this.streaming) return;
    const leaf = newestLeaf(this.current.messages, m.id);
    this.current.current_leaf = leaf;
    try {
      await store.patch(this.current.id, { current_leaf: leaf });
    } catch (e) {
      this.error = errorText(e);
    }
  }

  // The prompt size of the visible branch plus a new user message.
  async checkTokens(text: string, attachments: Attachment[]): Promise<TokenCheck | null> {
    if (!this.model) return null;
    const msgs = buildMessages(this.path, this.settings);
    msgs.push({ role: 'user', content: userContent(text, attachments) });
    const r = await countTokens(this.model, msgs);
    const max = r.max_model_len || this.maxModelLen;
    return { count: r.count, max, fits: !max || r.count < max };
  }

  async send(text: string, attachments: Attachment[]): Promise<boolean> {
    if (this.streaming || (!text.trim() && !attachments.length)) return false;
    this.error = '';
    try {
      if (!this.current) {
        const settings = { ...this.draftSettings, model: this.model };
        const c = await store.create(titleFrom(text, attachments), settings);
        this.current = { ...c, messages: [] };
        history.pushState(null, '', `/c/${encodeURIComponent(c.id)}`);
      }
      const parent = this.path.length ? this.path[this.path.length - 1].id : null;
      const m = await store.addMessage(this.current.id, { parent_id: parent, role: 'user', content: text, attachments });
      this.current.messages.push(m);
      this.current.current_leaf = m.id;
      void this.refreshList().catch(() => {});
    } catch (e) {
      this.error = errorText(e);
      return false;
    }
    await this.generate(this.current.messages[this.current.messages.length - 1].id, null);
    return true;
  }

  // A new version of a user message, answered anew.
  async editAndResend(m: Message, text: string): Promise<void> {
    if (!this.current || this.streaming) return;
    try {
      const e = await store.addMessage(this.current.id, { parent_id: m.parent_id, role: 'user', content: text, attachments: m.attachments });
      this.current.messages.push(e);
      this.current.current_leaf = e.id;
    } catch (err) {
      this.error = errorText(err);
      return;
    }
    await this.generate(this.current.current_leaf!, null);
  }

  async regenerate(m: Message): Promise<void> {
    if (!m.parent_id || this.streaming) return;
    await this.generate(m.parent_id, null);
  }

  async continueAnswer(m: Message): Promise<void> {
    if (this.streaming) return;
    await this.generate(m.parent_id ?? '', m.id);
  }

  stop(): void {
    this.streaming?.controller.abort();
  }

  private async generate(parentId: string, continueId: string | null): Promise<void> {
    const conv = this.current;
    if (!conv) return;
    const target = continueId ? conv.messages.find((x) => x.id === continueId) : undefined;
    const path = pathTo(conv.messages, continueId ?? parentId);
    const settings = this.settings;
    const model = this.model;
    const body = chatRequestBody(buildMessages(path, settings), settings, { model, continueFinal: !!target });
    const controller = new AbortController();
    // A continuation of an answer cut inside its reasoning: the server sees a
    // prompt that no longer ends with <think>, so its output comes as content
    // and the split happens here.
    const splitter = target && !target.content && target.reasoning ? new ThinkSplitter(true) : null;
    const s: Streaming = {
      parentId,
      continueId,
      content: '',
      reasoning: '',
      inReasoning: !target || !target.content,
      reasoningSeconds: null,
      controller,
    };
    this.streaming = s;
    const live = this.streaming!; // the reactive proxy
    const start = now();
    let firstToken = 0;
    let lastToken = 0;
    let finish = '';
    let usage: { prompt_tokens: number; completion_tokens: number } | null = null;
    let error = '';
    let pendingReasoning = '';
    let pendingContent = '';
    let frame = 0;
    const flush = () => {
      frame = 0;
      if (pendingReasoning) live.reasoning += pendingReasoning;
      if (pendingContent) live.content += pendingContent;
      pendingReasoning = pendingContent = '';
    };
    const schedule = () => {
      if (!frame) frame = requestAnimationFrame(flush);
    };
    const onContent = (text: string) => {
      if (live.inReasoning) {
        live.inReasoning = false;
        live.reasoningSeconds = (now() - start) / 1000;
      }
      pendingContent += text;
    };
    try {
      for await (const ev of chatStream(body, controller.signal)) {
        if (ev.type === 'reasoning' || ev.type === 'content') {
          const t = now();
          if (!firstToken) firstToken = t;
          lastToken = t;
        }
        if (ev.type === 'reasoning') pendingReasoning += ev.text;
        else if (ev.type === 'content') {
          if (splitter) {
            const d = splitter.push(ev.text);
            pendingReasoning += d.reasoning;
            if (d.content) onContent(d.content);
          } else onContent(ev.text);
        } else if (ev.type === 'finish') finish = ev.reason;
        else if (ev.type === 'usage') usage = ev.usage;
        schedule();
      }
    } catch (e) {
      if (isAbort(e)) finish = 'abort';
      else error = errorText(e);
    }
    if (frame) cancelAnimationFrame(frame);
    if (splitter) {
      const d = splitter.finish();
      pendingReasoning += d.reasoning;
      pendingContent += d.content;
    }
    flush();
    if (live.inReasoning && live.reasoning) live.reasoningSeconds = (now() - start) / 1000;
    const content = live.content;
    const reasoning = live.reasoning;
    const generated = usage?.completion_tokens;
    const seconds = lastToken > firstToken ? (lastToken - firstToken) / 1000 : 0;
    const meta: MessageMeta = {
      model,
      finish_reason: finish || (error ? 'error' : 'stop'),
      max_model_len: this.maxModelLen || undefined,
    };
    if (usage) {
      meta.prompt_tokens = usage.prompt_tokens;
      meta.completion_tokens = (target?.meta.completion_tokens ?? 0) + usage.completion_tokens;
      // Decode speed: tokens after the first over the time between them.
      if (generated && generated > 1 && seconds > 0) meta.tokens_per_second = (generated - 1) / seconds;
    }
    if (live.reasoningSeconds !== null && reasoning) meta.reasoning_seconds = (target?.meta.reasoning_seconds ?? 0) + live.reasoningSeconds;
    else if (target?.meta.reasoning_seconds !== undefined) meta.reasoning_seconds = target.meta.reasoning_seconds;
    if (error) meta.error = error;

    try {
      if (target) {
        if (content || reasoning) {
          const updated = await store.patchMessage(conv.id, target.id, {
            content: target.content + content,
            reasoning: (target.reasoning ?? '') + reasoning || null,
            meta: { ...target.meta, ...meta },
          });
          const i = conv.messages.findIndex((x) => x.id === target.id);
          if (i >= 0) conv.messages[i] = updated;
        }
      } else if (content || reasoning) {
        const m = await store.addMessage(conv.id, { parent_id: parentId, role: 'assistant', content, reasoning: reasoning || null, meta });
        conv.messages.push(m);
        conv.current_leaf = m.id;
      }
    } catch (e) {
      error = error || errorText(e);
    }
    if (this.streaming === live) this.streaming = null;
    if (error) this.error = error;
    void this.refreshList().catch(() => {});
  }
}
