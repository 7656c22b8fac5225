{*
 * Configuration tab: dxt_config switches and values. Detail view with an
 * Edit button; the edit form posts to SaveConfig (Vtiger's csrf-magic adds
 * the __vtrftk token to every POST form it renders).
 *}
{strip}
{if $SAVED}
	<div class="alert alert-success dxt-saved">{vtranslate('LBL_SAVED', $QUALIFIED_MODULE)}</div>
{/if}
{if isset($FIELD_ERRORS['_'])}
	<div class="alert alert-danger">{$FIELD_ERRORS['_']|escape:'html'}</div>
{/if}
{if !$EDIT_MODE}
	<div class="block dxt-block" id="DataExportTrackerConfigDetail">
		<div class="clearfix">
			<h4 class="pull-left">{vtranslate('LBL_CONFIGURATION', $QUALIFIED_MODULE)}</h4>
			<div class="btn-group pull-right">
				<a class="btn btn-default editButton" href="{$EDIT_URL}" title="{vtranslate('LBL_EDIT', $QUALIFIED_MODULE)}">{vtranslate('LBL_EDIT', $QUALIFIED_MODULE)}</a>
			</div>
		</div>
		<hr>
		<table class="table editview-table no-border">
			<tbody>
				{foreach from=$BOOL_FIELDS key=NAME item=LABEL}
					<tr>
						<td class="fieldLabel" style="width: 30%;"><label>{vtranslate($LABEL, $QUALIFIED_MODULE)}</label></td>
						<td class="fieldValue" data-name="{$NAME}">
							{if $SETTINGS[$NAME] eq '1'}{vtranslate('LBL_YES', $QUALIFIED_MODULE)}{else}{vtranslate('LBL_NO', $QUALIFIED_MODULE)}{/if}
							{if $NAME eq 'track_copy'}<div class="help-block dxt-note">{vtranslate('LBL_TRACK_COPY_NOTE', $QUALIFIED_MODULE)}</div>{/if}
						</td>
					</tr>
				{/foreach}
				{foreach from=$TEXT_FIELDS key=NAME item=FIELD}
					<tr>
						<td class="fieldLabel"><label>{vtranslate($FIELD[0], $QUALIFIED_MODULE)}</label></td>
						<td class="fieldValue" data-name="{$NAME}">
							{if $SETTINGS[$NAME] eq ''}
								<span class="text-muted">
									{if $NAME eq 'notify_admin_email'}{vtranslate('LBL_LOG_ONLY', $QUALIFIED_MODULE)}
									{elseif $NAME eq 'beacon_url'}{vtranslate('LBL_BEACON_URL_DEFAULT', $QUALIFIED_MODULE)}
									{elseif $NAME eq 'company_domains'}{vtranslate('LBL_COMPANY_DOMAINS_AUTO', $QUALIFIED_MODULE)}
									{else}-{/if}
								</span>
							{else}
								{$SETTINGS[$NAME]|escape:'html'}
							{/if}
						</td>
					</tr>
				{/foreach}
			</tbody>
		</table>
	</div>
{else}
	<form id="DataExportTrackerConfigForm" class="dxt-config-form" method="post" action="{$SAVE_URL}" novalidate>
		<input type="hidden" name="dxt_form" value="1" />
		<div class="block dxt-block">
			<div class="clearfix"><h4>{vtranslate('LBL_CONFIGURATION', $QUALIFIED_MODULE)}</h4></div>
			<hr>
			<table class="table editview-table no-border">
				<tbody>
					{foreach from=$BOOL_FIELDS key=NAME item=LABEL}
						<tr>
							<td class="fieldLabel" style="width: 30%;"><label for="dxt_{$NAME}">{vtranslate($LABEL, $QUALIFIED_MODULE)}</label></td>
							<td class="fieldValue">
								<input type="hidden" name="{$NAME}" value="0" />
								<input type="checkbox" id="dxt_{$NAME}" name="{$NAME}" value="1" {if $SETTINGS[$NAME] eq '1'}checked="checked"{/if} />
								{if $NAME eq 'track_copy'}<div class="help-block dxt-note">{vtranslate('LBL_TRACK_COPY_NOTE', $QUALIFIED_MODULE)}</div>{/if}
								{if isset($FIELD_ERRORS[$NAME])}<div class="text-danger dxt-field-error">{$FIELD_ERRORS[$NAME]|escape:'html'}</div>{/if}
							</td>
						</tr>
					{/foreach}
					{foreach from=$TEXT_FIELDS key=NAME item=FIELD}
						<tr>
							<td class="fieldLabel"><label for="dxt_{$NAME}">{vtranslate($FIELD[0], $QUALIFIED_MODULE)}</label></td>
							<td class="fieldValue">
								<input class="inputElement form-control dxt-input" id="dxt_{$NAME}" name="{$NAME}" data-rule="{$NAME}" type="{if $FIELD[2] eq 'number'}number{else}text{/if}" {if $NAME eq 'retention_days'}min="1" max="36500" {elseif $NAME eq 'notify_min_records'}min="0" {elseif $NAME eq 'notify_max_per_minute'}min="1" max="10000" {elseif $NAME eq 'retention_batch'}min="100" max="10000" {elseif $NAME eq 'content_max_mb'}min="0" {/if}value="{$SETTINGS[$NAME]|escape:'html'}" />
								<div class="help-block">{vtranslate($FIELD[1], $QUALIFIED_MODULE)}</div>
								<div class="text-danger dxt-field-error" data-error-for="{$NAME}">{if isset($FIELD_ERRORS[$NAME])}{$FIELD_ERRORS[$NAME]|escape:'html'}{/if}</div>
							</td>
						</tr>
					{/foreach}
				</tbody>
			</table>
		</div>
		<div class="dxt-form-buttons">
			<button type="submit" class="btn btn-success saveButton">{vtranslate('LBL_SAVE', $QUALIFIED_MODULE)}</button>
			&nbsp;<a class="cancelLink" href="{$CANCEL_URL}">{vtranslate('LBL_CANCEL', $QUALIFIED_MODULE)}</a>
		</div>
	</form>
{/if}
{/strip}
