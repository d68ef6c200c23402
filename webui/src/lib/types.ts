// The chat store's objects (docs/chat-store-api.md).

export interface ChatSettings {
  system_prompt?: string;
  temperature?: number | null;
  top_p?: number | null;
  max_tokens?: number | null;
  show_reasoning?: boolean;
  model?: string;
}

export interface Attachment {
  name: string;
  text: string;
}

export interface MessageMeta {
  model?: string;
  prompt_tokens?: number;
  completion_tokens?: number;
  tokens_per_second?: number;
  reasoning_seconds?: number;
  finish_reason?: string;
  max_model_len?: number;
  error?: string;
}

export type Role = 'system' | 'user' | 'assistant';

export interface Message {
  id: string;
  conversation_id: string;
  parent_id: string | null;
  role: Role;
  content: string;
  reasoning: string | null;
  attachments: Attachment[];
  meta: MessageMeta;
  created_at: number;
}

export interface Conversation {
  id: string;
  title: string;
  created_at: number;
  updated_at: number;
  settings: ChatSettings;
  current_leaf: string | null;
}

export interface ConversationWithMessages extends Conversation {
  messages: Message[];
}

export interface UploadedFile {
  name: string;
  text: string;
  bytes: number;
  type: 'text' | 'pdf';
}

export interface ModelInfo {
  id: string;
  max_model_len?: number;
}

export const DEFAULT_SETTINGS: Required<Omit<ChatSettings, 'model'>> = {
  system_prompt: '',
  // DeepSeek's recommendation for the R1 distills.
  temperature: 0.6,
  top_p: 0.95,
  max_tokens: null,
  show_reasoning: true,
};
