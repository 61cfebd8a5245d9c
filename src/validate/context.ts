/**
 * Diagnostics for one object, with messages shaped like apimachinery's field.Error bodies
 * (the path is carried separately; cli/ prints `path: message`).
 */
import type { DiagnosticCode } from '../model/catalogue.js'
import type { Diagnostic, FieldPath } from '../model/diagnostic.js'
import type { JsonObject, JsonValue, RawObject } from '../model/raw.js'
import { describeObject } from '../model/raw.js'

/** A JSON value as Go's %q / %v print it inside field errors. */
export function formatValue(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return 'null'
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value)
}

/** Returns the value when it is a JSON object (not null, not an array). */
export function asObject(value: JsonValue | undefined): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined
}

/** Returns the value when it is an array. */
export function asArray(value: JsonValue | undefined): readonly JsonValue[] | undefined {
  return Array.isArray(value) ? value : undefined
}

/** Returns the value when it is a string. */
export function asString(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** Returns the value when it is an integer. */
export function asInteger(value: JsonValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined
}

/** Collects the diagnostics of one object; every helper mirrors one apimachinery field.Error constructor. */
export interface Reporter {
  readonly diagnostics: readonly Diagnostic[]
  /** Records one diagnostic; `at` is a more precise position than `path` (e.g. the offending map key). */
  report(code: DiagnosticCode, path: FieldPath, message: string, at?: FieldPath): void
  /** field.Invalid: `Invalid value: "x": detail`. */
  invalid(
    code: DiagnosticCode,
    path: FieldPath,
    value: JsonValue | undefined,
    detail: string,
    at?: FieldPath,
  ): void
  /** field.Required: `Required value` or `Required value: detail`. */
  required(code: DiagnosticCode, path: FieldPath, detail?: string): void
  /** field.Forbidden: `Forbidden: detail`. */
  forbidden(code: DiagnosticCode, path: FieldPath, detail: string): void
  /** field.NotSupported: `Unsupported value: "x": supported values: "A", "B"`. */
  notSupported(
    code: DiagnosticCode,
    path: FieldPath,
    value: JsonValue | undefined,
    supported: readonly string[],
  ): void
  /** field.Duplicate: `Duplicate value: "x"`. */
  duplicate(code: DiagnosticCode, path: FieldPath, value: JsonValue | undefined): void
}

/** Creates a Reporter for one object; diagnostics name the object and point at the field's source. */
export function createReporter(raw: RawObject): Reporter {
  return new ObjectReporter(raw)
}

/** One object's reporter: a class, so that the thousands of objects of a cluster share its methods. */
class ObjectReporter implements Reporter {
  readonly diagnostics: Diagnostic[] = []
  /** Named on the first diagnostic: most objects have none. */
  private object: string | undefined

  constructor(private readonly raw: RawObject) {}

  report(code: DiagnosticCode, path: FieldPath, message: string, at?: FieldPath): void {
    this.object ??= describeObject(this.raw.value)
    this.diagnostics.push({
      code,
      severity: 'error',
      message,
      object: this.object,
      path: [...path],
      source: this.raw.locate(at ?? path),
    })
  }

  invalid(
    code: DiagnosticCode,
    path: FieldPath,
    value: JsonValue | undefined,
    detail: string,
    at?: FieldPath,
  ): void {
    this.report(code, path, `Invalid value: ${formatValue(value)}: ${detail}`, at)
  }

  required(code: DiagnosticCode, path: FieldPath, detail = ''): void {
    this.report(code, path, detail ? `Required value: ${detail}` : 'Required value')
  }

  forbidden(code: DiagnosticCode, path: FieldPath, detail: string): void {
    this.report(code, path, `Forbidden: ${detail}`)
  }

  notSupported(
    code: DiagnosticCode,
    path: FieldPath,
    value: JsonValue | undefined,
    supported: readonly string[],
  ): void {
    this.report(
      code,
      path,
      `Unsupported value: ${formatValue(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
    )
  }

  duplicate(code: DiagnosticCode, path: FieldPath, value: JsonValue | undefined): void {
    this.report(code, path, `Duplicate value: ${formatValue(value)}`)
  }
}
