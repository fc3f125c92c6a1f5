#pragma once
// The whole public C++ API of ortlm.
#include "ortlm/chat_template.hpp"
#include "ortlm/engine.hpp"
#include "ortlm/error.hpp"
#include "ortlm/generator.hpp"
#include "ortlm/llmzip.hpp"
#include "ortlm/model.hpp"
#include "ortlm/tokenizer.hpp"
