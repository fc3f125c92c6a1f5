#include "util/utf8.hpp"

namespace ortlm::utf8 {

char32_t decode(std::string_view s, size_t& pos) {
  auto b0 = static_cast<unsigned char>(s[pos]);
  size_t n = sequence_length(b0);
  if (pos + n > s.size()) n = 1;
  char32_t cp;
  switch (n) {
    case 1:
      cp = b0;
      break;
    case 2:
      cp = ((b0 & 0x1Fu) << 6) | (static_cast<unsigned char>(s[pos + 1]) & 0x3Fu);
      break;
    case 3:
      cp = ((b0 & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[pos + 1]) & 0x3Fu) << 6) |
           (static_cast<unsigned char>(s[pos + 2]) & 0x3Fu);
      break;
    default:
      cp = ((b0 & 0x07u) << 18) | ((static_cast<unsigned char>(s[pos + 1]) & 0x3Fu) << 12) |
           ((static_cast<unsigned char>(s[pos + 2]) & 0x3Fu) << 6) |
           (static_cast<unsigned char>(s[pos + 3]) & 0x3Fu);
      break;
  }
  pos += n;
  return cp;
}

void append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

namespace {
// How many bytes from `pos` form a valid prefix of a UTF-8 sequence (the Unicode "maximal subpart"
// rules, which Rust's lossy conversion follows), and the full length the lead byte announces.
size_t valid_prefix(std::string_view s, size_t pos, size_t& wanted) {
  auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) return wanted = 1;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    wanted = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    wanted = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    wanted = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    wanted = 1;
    return 0;
  }
  size_t n = 1;
  while (n < wanted && pos + n < s.size()) {
    auto b = static_cast<unsigned char>(s[pos + n]);
    if (n == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
    ++n;
  }
  return n;
}
}  // namespace

size_t valid_sequence_length(std::string_view s, size_t pos) {
  size_t wanted = 0;
  size_t n = valid_prefix(s, pos, wanted);
  return n == wanted ? n : 0;
}

size_t find_invalid(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    if (static_cast<unsigned char>(s[pos]) < 0x80) {
      ++pos;
      continue;
    }
    size_t n = valid_sequence_length(s, pos);
    if (n == 0) return pos;
    pos += n;
  }
  return std::string_view::npos;
}

size_t complete_prefix_length(std::string_view s) {
  // Only the last three bytes can start an unfinished character.
  size_t start = s.size() > 3 ? s.size() - 3 : 0;
  for (size_t pos = start; pos < s.size(); ++pos) {
    auto b = static_cast<unsigned char>(s[pos]);
    if ((b & 0xC0) == 0x80) continue;
    size_t wanted = 0;
    size_t n = valid_prefix(s, pos, wanted);
    if (n > 0 && n < wanted && pos + n == s.size()) return pos;
  }
  return s.size();
}

std::string repair(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    size_t wanted = 0;
    size_t n = valid_prefix(s, pos, wanted);
    if (n == wanted) {
      out.append(s.substr(pos, n));
      pos += n;
    } else {
      out.append(kReplacementChar);
      pos += n == 0 ? 1 : n;
    }
  }
  return out;
}

size_t count_chars(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

bool is_white_space(char32_t cp) {
  switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

}  // namespace ortlm::utf8
