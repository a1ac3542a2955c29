// TypeDoc plugin: `@property name - text` in the comment of a declaration documents the
// property `name` of an inline object type in that declaration (an option like
// `rateLimit?: { messages: number; intervalMs: number }`, or a method's return type).
// TypeDoc applies the tag to type aliases and variables only; this extends it to properties
// and signatures, so such members can be documented without reshaping the type's code. It
// runs before TypeDoc's own handling, which removes the tags it cannot place.
import { Comment, Converter, ReflectionKind } from "typedoc";

const PROPERTY_TAGS = new Set(["@property", "@prop"]);

/** The comment of a reflection, or of its (first) signature. */
function commentOf(reflection) {
  return reflection.comment ?? reflection.signatures?.[0]?.comment;
}

export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const reflection of context.project.getReflectionsByKind(ReflectionKind.Property)) {
      if (reflection.comment || reflection.parent?.kind !== ReflectionKind.TypeLiteral) continue;
      for (let owner = reflection.parent; owner; owner = owner.parent) {
        const tag = commentOf(owner)?.blockTags.find(
          (t) => PROPERTY_TAGS.has(t.tag) && t.name === reflection.name,
        );
        if (tag) {
          reflection.comment = new Comment(Comment.cloneDisplayParts(tag.content));
          break;
        }
      }
    }
  });
}
